using Prometheus;

namespace IdOS.Akka.Engine.Rpc.JsonRpc;

/// <summary>
/// The RPC system's Prometheus metrics, in a registry of its own: JSON-RPC requests by method and code (0 for a
/// result; methods the server does not have count as "unknown", so a client cannot grow the label set), how long
/// each method took, read batch sizes, KGW sessions held and the verifier pool's outstanding checks.
/// </summary>
public sealed class RpcMetrics
{
    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Histogram _readBatch;
    private readonly Gauge _sessions;
    private readonly Gauge _verifierQueue;

    public RpcMetrics()
    {
        var metrics = Metrics.WithCustomRegistry(Registry);
        _requests = metrics.CreateCounter("idos_rpc_requests_total", "JSON-RPC requests by method and JSON-RPC error code (0: answered with a result).",
            new CounterConfiguration { LabelNames = ["method", "code"] });
        _duration = metrics.CreateHistogram("idos_rpc_request_duration_seconds", "From a request's body read to its answer, by method.",
            new HistogramConfiguration { LabelNames = ["method"], Buckets = Histogram.ExponentialBuckets(0.000_25, 2, 18) });
        _readBatch = metrics.CreateHistogram("idos_rpc_read_batch_reads", "Reads (views and nonces) per batch sent to a validator.",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 9) });
        _sessions = metrics.CreateGauge("idos_rpc_sessions", "KGW sessions held.");
        _verifierQueue = metrics.CreateGauge("idos_rpc_verifier_outstanding", "Signature checks asked of the verifier pool and not answered yet.");
    }

    /// <summary>What the gauges read before each scrape: the sessions held and the verifier pool's outstanding checks.</summary>
    public void Track(Func<int> sessions, Func<long> verifierOutstanding)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        ArgumentNullException.ThrowIfNull(verifierOutstanding);
        Registry.AddBeforeCollectCallback(() =>
        {
            _sessions.Set(sessions());
            _verifierQueue.Set(verifierOutstanding());
        });
    }

    public void BatchSent(int reads) => _readBatch.Observe(reads);

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public void Observe(string method, int code, TimeSpan elapsed)
    {
        _requests.WithLabels(method, code.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        _duration.WithLabels(method).Observe(elapsed.TotalSeconds);
    }
}
