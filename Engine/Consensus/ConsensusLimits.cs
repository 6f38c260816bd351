namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// Bounds that every node applies to what peers send. They are part of the protocol: a block one node accepts must
/// be acceptable to all, so change them only together (and size the transport's frame for <see cref="MaxMessageBytes"/>).
/// </summary>
public sealed record ConsensusLimits
{
    public static ConsensusLimits Default { get; } = new();

    public int MaxTransactionsPerBlock { get; init; } = 10_000;

    /// <summary>An idOS credential is an encrypted document; 1 MiB leaves room for attachments without inviting abuse.</summary>
    public int MaxTransactionBytes { get; init; } = 1 << 20;

    public int MaxBlockBytes { get; init; } = 4 << 20;

    public int MaxBlocksPerResponse { get; init; } = 64;

    /// <summary>A block response carries at least one full block, so a message may be a little over two blocks.</summary>
    public int MaxMessageBytes => (2 * MaxBlockBytes) + (64 << 10);

    /// <summary>How far a proposal's timestamp may run ahead of a voter's own clock.</summary>
    public long MaxClockDriftMs { get; init; } = 2_000;
}
