using Prometheus;

namespace IdOS.Akka.Engine.Rpc.JsonRpc;

/// <summary>
/// The RPC system's Prometheus metrics, in a registry of its own: JSON-RPC requests by method and code (0 for a
/// result; methods the server does not have count as "unknown", so a client cannot grow the label set), and how long
/// each method took.
/// </summary>
public sealed class RpcMetrics
{
    private readonly Counter _requests;
    private readonly Histogram _duration;

    public RpcMetrics()
    {
        var metrics = Metrics.WithCustomRegistry(Registry);
        _requests = metrics.CreateCounter("idos_rpc_requests_total", "JSON-RPC requests by method and JSON-RPC error code (0: answered with a result).",
            new CounterConfiguration { LabelNames = ["method", "code"] });
        _duration = metrics.CreateHistogram("idos_rpc_request_duration_seconds", "From a request's body read to its answer, by method.",
            new HistogramConfiguration { LabelNames = ["method"], Buckets = Histogram.ExponentialBuckets(0.000_25, 2, 18) });
    }

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public void Observe(string method, int code, TimeSpan elapsed)
    {
        _requests.WithLabels(method, code.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        _duration.WithLabels(method).Observe(elapsed.TotalSeconds);
    }
}
