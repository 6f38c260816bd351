using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>Where a height stands relative to the replica's epoch.</summary>
public enum EpochPlace
{
    /// <summary>In this epoch: an ordinary block.</summary>
    Within,

    /// <summary>
    /// Past the epoch's last height: only an empty block, which never commits; such blocks exist to commit the last
    /// height under this epoch's set.
    /// </summary>
    Beyond,

    /// <summary>Not yet known: execution has not reached the height where a change starting here would be decided.</summary>
    Unknown,
}

/// <summary>Where the next epoch starts, and the hash of its set, once executing a block decided a change.</summary>
public sealed record NextEpoch(long StartHeight, Hash32 SetHash);

/// <summary>
/// The end of a replica's epoch. Governance changes the set at a height at least <see cref="ChainParameters.EpochDelay"/>
/// blocks after the block that decided it, and execution reports the decision; so a height up to the executed height
/// plus that delay is known to be in this epoch unless an end was reported. A validator neither proposes nor votes
/// where it does not know, and no block past the end carries a transaction or commits: the first block of the next
/// epoch extends the committed last block of this one.
/// </summary>
public sealed class EpochBoundary(long epoch, long startHeight)
{
    public long Epoch { get; } = epoch;

    /// <summary>The height of the epoch's first block: 1 for genesis's epoch.</summary>
    public long StartHeight { get; } = startHeight;

    /// <summary>The epoch's last height, once execution reported the next epoch's start.</summary>
    public long? LastHeight { get; private set; }

    /// <summary>
    /// The next epoch's set hash, once execution reported the change: the blocks past <see cref="LastHeight"/> carry it.
    /// </summary>
    public Hash32 NextSetHash { get; private set; }

    /// <summary>The next epoch starts at a height after this epoch's start, with the set of that hash; reported once.</summary>
    public void EndBefore(NextEpoch next)
    {
        ArgumentNullException.ThrowIfNull(next);
        var nextStart = next.StartHeight;
        if (next.SetHash == Hash32.Zero)
        {
            throw new ArgumentException($"Epoch {Epoch + 1} has a set, so its hash is not zero.", nameof(next));
        }

        if (nextStart <= StartHeight)
        {
            throw new ArgumentOutOfRangeException(nameof(next), $"Epoch {Epoch + 1} cannot start at {nextStart}, not after epoch {Epoch}'s start {StartHeight}.");
        }

        if (LastHeight is { } last && (last != nextStart - 1 || NextSetHash != next.SetHash))
        {
            throw new InvalidOperationException($"Epoch {Epoch} already ends at {last} before set {NextSetHash.ToShortString()}; " +
                $"execution now reports the next start at {nextStart} with set {next.SetHash.ToShortString()}.");
        }

        LastHeight = nextStart - 1;
        NextSetHash = next.SetHash;
    }

    public EpochPlace PlaceOf(long height, long executedHeight) =>
        LastHeight is { } last ? (height > last ? EpochPlace.Beyond : EpochPlace.Within)
        : height > executedHeight + ChainParameters.EpochDelay ? EpochPlace.Unknown
        : EpochPlace.Within;
}
