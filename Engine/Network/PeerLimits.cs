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
/// A token bucket on a caller's clock (milliseconds): <c>perSecond</c> on average, at most <c>burst</c> at once. For
/// one actor's use: not thread-safe.
/// </summary>
public sealed class TokenBucket
{
    private readonly double _perSecond;
    private readonly double _burst;
    private double _tokens;
    private long _at;

    public TokenBucket(double perSecond, double burst, long nowMs)
    {
        _perSecond = perSecond;
        _burst = burst;
        _tokens = burst;
        _at = nowMs;
    }

    /// <summary>Takes <paramref name="cost"/> if the bucket holds it; a cost above the burst is taken from a full bucket.</summary>
    public bool TryTake(double cost, long nowMs)
    {
        if (nowMs > _at)
        {
            _tokens = Math.Min(_burst, _tokens + ((nowMs - _at) * _perSecond / 1000));
            _at = nowMs;
        }

        if (_tokens < Math.Min(cost, _burst))
        {
            return false;
        }

        _tokens -= cost;
        return true;
    }
}
