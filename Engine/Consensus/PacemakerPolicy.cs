namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// Round timer lengths: the base, doubled for each consecutive timeout since the last commit,
/// capped so that a long outage does not leave validators waiting minutes after the network heals.
/// </summary>
public sealed record PacemakerPolicy(long BaseTimeoutMs, long MaxTimeoutMs)
{
    public static PacemakerPolicy Default { get; } = new(1_000, 16_000);

    /// <summary>
    /// How long a leader with nothing to propose and nothing uncommitted that carries a transaction waits before it
    /// proposes an empty block anyway; a transaction that arrives meanwhile ends the wait. Every validator's round
    /// timer is twice this longer while the chain is idle (a round can span its leader's wait and the next leader's),
    /// so waiting never looks like a dead leader. 0: never wait.
    /// </summary>
    public long IdleIntervalMs { get; init; }

    public long TimeoutFor(int consecutiveTimeouts)
    {
        var doublings = Math.Clamp(consecutiveTimeouts, 0, 30);
        var duration = BaseTimeoutMs << doublings;
        return duration <= 0 || duration > MaxTimeoutMs ? MaxTimeoutMs : duration;
    }
}
