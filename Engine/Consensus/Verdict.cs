namespace IdOS.Akka.Engine.Consensus;

/// <summary>The outcome of a check on untrusted input: accepted, or rejected with a reason an operator can read.</summary>
public readonly record struct Verdict(string? Reason)
{
    public static Verdict Accept => default;

    public bool IsAccepted => Reason is null;

    public static Verdict Reject(string reason) => new(reason);
}
