namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// What a leader's block carries: the mempool's oldest transactions that are neither in the blocks it extends nor
/// committed, within the block's limits (room left for the header and its certificates). The mempool holds them in
/// the order the host handed them, which keeps any order the application needs (each sender's nonces).
/// </summary>
internal sealed class ProposalContents(ChainParameters chain, Mempool mempool, Func<Crypto.Hash32, bool> isCommitted)
{
    private readonly int _headerAllowance = 1024 + (64 * chain.Validators.Count);

    public IReadOnlyList<byte[]> Select(IReadOnlyList<Block> uncommitted)
    {
        var inAncestors = uncommitted.SelectMany(b => b.TransactionHashes).ToHashSet();
        return mempool.Select(
            chain.Limits.MaxTransactionsPerBlock,
            chain.Limits.MaxBlockBytes - _headerAllowance,
            hash => inAncestors.Contains(hash) || isCommitted(hash));
    }
}
