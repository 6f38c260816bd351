namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// Round timer lengths: the base, doubled for each consecutive timeout since the last commit,
/// capped so that a long outage does not leave validators waiting minutes after the network heals.
/// </summary>
public sealed record PacemakerPolicy(long BaseTimeoutMs, long MaxTimeoutMs)
{
    public static PacemakerPolicy Default { get; } = new(1_000, 16_000);

    public long TimeoutFor(int consecutiveTimeouts)
    {
        var doublings = Math.Clamp(consecutiveTimeouts, 0, 30);
        var duration = BaseTimeoutMs << doublings;
        return duration <= 0 || duration > MaxTimeoutMs ? MaxTimeoutMs : duration;
    }
}
