using System.Net;
using IdOS.Akka.Engine.Rpc.Explorer;
using IdOS.Akka.Engine.Rpc.JsonRpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace IdOS.Akka.Engine.Rpc.Http;

/// <summary>
/// Kestrel serving `POST /rpc/v1` (and the CORS preflight the browser client sends) in front of a
/// <see cref="JsonRpcDispatcher"/>, and the explorer page at `/` when asked to. CORS by default is kwild's: any
/// origin, without credentials, so no other site's page can make a visitor's browser read with the visitor's KGW
/// cookie. An operator who serves a web app from its own origins lists them; those get their origin echoed with
/// credentials allowed, as the client sends its KGW cookie with `withCredentials`.
/// </summary>
public sealed class RpcHttpServer : IAsyncDisposable
{
    public const string Path = "/rpc/v1";
    private const string AllowedHeaders = "Accept, Content-Type, Content-Length, Accept-Encoding, Authorization, ResponseType, Range";

    private readonly WebApplication _app;

    private RpcHttpServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>Where it listens, with the port the OS chose when 0 was asked for.</summary>
    public Uri Address { get; }

    /// <summary>Listens on <paramref name="endpoint"/>; <paramref name="allowedOrigins"/> may read with credentials (none, or "*": any origin without).</summary>
    public static async Task<RpcHttpServer> Start(IPEndPoint endpoint, JsonRpcDispatcher dispatcher, int maxBodyBytes, IReadOnlyCollection<string>? allowedOrigins = null,
        Func<CancellationToken, Task<HealthReport>>? health = null, bool explorer = false)
    {
        var origins = allowedOrigins is null || allowedOrigins.Count == 0 || allowedOrigins.Contains("*")
            ? null
            : allowedOrigins.ToHashSet(StringComparer.OrdinalIgnoreCase);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(dispatcher);
        // Oversized bodies up to the drain limit are read and discarded, so the client gets the JSON-RPC error instead
        // of a connection closed while it is still sending; beyond it Kestrel cuts the request off.
        var app = KestrelListener.Build(endpoint, options => options.Limits.MaxRequestBodySize = DrainLimit(maxBodyBytes));
        app.MapMethods(Path, ["OPTIONS"], context =>
        {
            AddCors(context, origins);
            context.Response.StatusCode = 200;
            return Task.CompletedTask;
        });
        app.MapPost(Path, context => Serve(context, dispatcher, maxBodyBytes, origins));
        if (health is not null)
        {
            app.MapGet(MetricsHttpServer.HealthPath, context => MetricsHttpServer.WriteHealth(context, health));
        }

        if (explorer)
        {
            ExplorerPage.Map(app);
        }

        return new RpcHttpServer(app, await KestrelListener.Start(app));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task Serve(HttpContext context, JsonRpcDispatcher dispatcher, int maxBodyBytes, HashSet<string>? origins)
    {
        AddCors(context, origins);
        byte[] body;
        try
        {
            body = await ReadBounded(context.Request.Body, maxBodyBytes, context.RequestAborted);
        }
        catch (BadHttpRequestException)
        {
            // Longer than even the drain limit (or than it said it was): answered as any oversized body.
            body = new byte[maxBodyBytes + 1];
        }

        var request = new RequestContext(context.Connection.RemoteIpAddress?.ToString(), context.Request.Headers.Cookie.ToString(),
            $"{context.Request.Scheme}://{context.Request.Host}");
        var response = await dispatcher.Handle(body, request, context.RequestAborted);
        context.Response.StatusCode = response.HttpStatus;
        context.Response.ContentType = "application/json";
        foreach (var cookie in response.SetCookies)
        {
            context.Response.Headers.Append("Set-Cookie", cookie);
        }

        await context.Response.WriteAsync(response.Body, context.RequestAborted);
    }

    private static long DrainLimit(int maxBodyBytes) => Math.Max(16L * maxBodyBytes, 16L << 20);

    /// <summary>The body, or when it is longer than allowed, the rest read and dropped and a marker one byte over the limit.</summary>
    private static async Task<byte[]> ReadBounded(Stream stream, int maxBodyBytes, CancellationToken cancel)
    {
        using var kept = new MemoryStream();
        var chunk = new byte[16 << 10];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(chunk, cancel)) > 0)
        {
            total += read;
            if (total <= maxBodyBytes)
            {
                kept.Write(chunk, 0, read);
            }
        }

        return total <= maxBodyBytes ? kept.ToArray() : new byte[maxBodyBytes + 1];
    }

    private static void AddCors(HttpContext context, HashSet<string>? origins)
    {
        var headers = context.Response.Headers;
        var origin = context.Request.Headers.Origin.ToString();
        if (origins is null)
        {
            headers.AccessControlAllowOrigin = "*";
        }
        else
        {
            headers.Vary = "Origin";
            if (!origins.Contains(origin))
            {
                return;
            }

            headers.AccessControlAllowOrigin = origin;
            headers.AccessControlAllowCredentials = "true";
        }

        headers.AccessControlAllowMethods = "GET, POST, OPTIONS";
        headers.AccessControlAllowHeaders = AllowedHeaders;
    }
}
