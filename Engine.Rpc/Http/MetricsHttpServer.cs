using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace IdOS.Akka.Engine.Rpc.Http;

/// <summary>
/// Whether a process is fit to serve, as `GET /health` answers: 200 when healthy, else 503, with the reason and the
/// figures it was judged on as JSON.
/// </summary>
public sealed record HealthReport(bool Healthy, string Reason, JsonObject Details)
{
    public static HealthReport Unhealthy(string reason) => new(false, reason, []);

    public string ToJson()
    {
        var body = new JsonObject { ["healthy"] = Healthy };
        if (!Healthy)
        {
            body["reason"] = Reason;
        }

        foreach (var (name, value) in Details)
        {
            body[name] = value?.DeepClone();
        }

        return body.ToJsonString();
    }
}

/// <summary>
/// Kestrel serving a process's Prometheus metrics (`GET /metrics`, the text exposition format) and its health
/// (`GET /health`), on a listener of their own: loopback by default, since the figures say much about the node.
/// </summary>
public sealed class MetricsHttpServer : IAsyncDisposable
{
    public const string MetricsPath = "/metrics";
    public const string HealthPath = "/health";

    private readonly WebApplication _app;

    private MetricsHttpServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>Where it listens, with the port the OS chose when 0 was asked for.</summary>
    public Uri Address { get; }

    public static async Task<MetricsHttpServer> Start(IPEndPoint endpoint, CollectorRegistry registry, Func<CancellationToken, Task<HealthReport>> health)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(health);
        var app = KestrelListener.Build(endpoint);
        app.MapGet(MetricsPath, async context =>
        {
            context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
        });
        app.MapGet(HealthPath, context => WriteHealth(context, health));
        return new MetricsHttpServer(app, await KestrelListener.Start(app));
    }

    /// <summary>The health answer for any listener that serves it: 200 or 503 with the report's JSON; never 500.</summary>
    public static async Task WriteHealth(HttpContext context, Func<CancellationToken, Task<HealthReport>> health)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(health);
        HealthReport report;
        try
        {
            report = await health(context.RequestAborted);
        }
        catch (Exception e) when (e is TimeoutException or TaskCanceledException or InvalidOperationException or global::Akka.Actor.AskTimeoutException)
        {
            report = HealthReport.Unhealthy($"no answer about the node's state: {e.Message}");
        }

        context.Response.StatusCode = report.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsync(report.ToJson(), context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
