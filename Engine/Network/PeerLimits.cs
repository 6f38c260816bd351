namespace IdOS.Akka.Engine.Network;

/// <summary>
/// What one peer validator may cost this node: consensus messages (and forwarded transaction batches) a second, and
/// bytes of block responses a second. A pinned peer, or one forging a validator's sender path, gets no more; an honest
/// validator sends a few messages a round and asks for blocks only to catch up.
/// </summary>
public sealed record PeerLimits(double MessagesPerSecond, int MessagesBurst, double SyncBytesPerSecond, long SyncBytesBurst)
{
    public static PeerLimits Default { get; } = new(5_000, 20_000, 32 << 20, 64 << 20);
}

/// <summary>
/// A token bucket per peer on a caller's clock (milliseconds): <c>perSecond</c> on average, at most <c>burst</c> at
/// once. Peers are validator indices, so the buckets are as many as the validators. For one actor's use: not thread-safe.
/// </summary>
public sealed class PeerBudgets(double perSecond, double burst)
{
    private readonly Dictionary<int, (double Tokens, long At)> _buckets = [];

    /// <summary>Takes <paramref name="cost"/> from the peer's bucket if it holds it; a cost above the burst is taken from a full bucket.</summary>
    public bool TryTake(int peer, double cost, long nowMs)
    {
        var (tokens, at) = _buckets.TryGetValue(peer, out var bucket) ? bucket : (burst, nowMs);
        if (nowMs > at)
        {
            tokens = Math.Min(burst, tokens + ((nowMs - at) * perSecond / 1000));
            at = nowMs;
        }

        var taken = tokens >= Math.Min(cost, burst);
        _buckets[peer] = (taken ? tokens - cost : tokens, at);
        return taken;
    }
}
