namespace IdOS.Akka.Engine.Rpc.JsonRpc;

/// <summary>
/// A token bucket per client address: <paramref name="perSecond"/> requests a second on average, bursts of up to
/// <paramref name="burst"/>. Guarding a method with it answers a client over its budget with
/// <see cref="RpcErrorCode.RateLimited"/> before any work is done; other clients are unaffected.
/// </summary>
public sealed class PerAddressRateLimit(double perSecond, int burst, TimeProvider clock)
{
    private const int PruneAbove = 10_000;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (double Tokens, long At)> _buckets = new(StringComparer.Ordinal);

    public bool TryTake(string? address)
    {
        var key = address ?? "";
        var now = clock.GetTimestamp();
        lock (_gate)
        {
            if (_buckets.Count > PruneAbove)
            {
                Prune(now);
            }

            var (tokens, at) = _buckets.TryGetValue(key, out var bucket) ? bucket : (burst, now);
            tokens = Math.Min(burst, tokens + (clock.GetElapsedTime(at, now).TotalSeconds * perSecond));
            if (tokens < 1)
            {
                _buckets[key] = (tokens, now);
                return false;
            }

            _buckets[key] = (tokens - 1, now);
            return true;
        }
    }

    public RpcMethod Guard(RpcMethod method, string what)
    {
        ArgumentNullException.ThrowIfNull(method);
        return (parameters, context, cancel) => TryTake(context.RemoteAddress)
            ? method(parameters, context, cancel)
            : throw new RpcException(RpcErrorCode.RateLimited,
                $"too many {what} from {context.RemoteAddress}: at most {perSecond:0.##} a second (bursts of {burst}); try again shortly");
    }

    /// <summary>Buckets that have refilled are the same as no bucket; dropping them bounds the memory many addresses take.</summary>
    private void Prune(long now)
    {
        foreach (var full in _buckets.Where(b => b.Value.Tokens + (clock.GetElapsedTime(b.Value.At, now).TotalSeconds * perSecond) >= burst).Select(b => b.Key).ToList())
        {
            _buckets.Remove(full);
        }
    }
}
