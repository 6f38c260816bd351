using System.Security.Cryptography;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The signed part of a block. <see cref="Justify"/> certifies the parent, so the parent id is its block id.
/// <see cref="TxRoot"/> commits to the transactions so that a body can be pruned and the chain still verifies.
/// <see cref="ExecutedHeight"/> and <see cref="ExecutedAppHash"/> are the leader's latest executed state.
/// <see cref="FailedProposers"/> names the leaders of the rounds between the parent's and this one, which produced no
/// block on this chain; leader reputation weighs them down.
/// </summary>
public sealed record BlockHeader(
    long Round,
    long Height,
    QuorumCertificate Justify,
    int Proposer,
    long Timestamp,
    Hash32 TxRoot,
    int TxCount,
    long ExecutedHeight,
    Hash32 ExecutedAppHash)
{
    /// <summary>Genesis has no proposer; no validator index can take this value.</summary>
    public const int NoProposer = ushort.MaxValue;

    /// <summary>A validator bitmap (see <see cref="SignerBitmap"/>); empty when the parent's round is the one before.</summary>
    public byte[] FailedProposers { get; init; } = [];

    /// <summary>The validator-set epoch the block belongs to: 0 from genesis, one more with each set governance schedules.</summary>
    public long Epoch { get; init; }

    /// <summary>
    /// <see cref="ValidatorSet.Hash"/> of the epoch's set, which certifies the block. Zero only in the genesis block and
    /// in blocks written before headers named their set; a validator votes for no new block without it.
    /// </summary>
    public Hash32 SetHash { get; init; }

    /// <summary>
    /// On the empty blocks past an epoch's last height (which exist to commit it): <see cref="ValidatorSet.Hash"/> of
    /// the next epoch's set, so that the old set's certificates over them vouch for the new set to a node that follows
    /// the chain by headers. Zero on every other block.
    /// </summary>
    public Hash32 NextSetHash { get; init; }

    public Hash32 ParentId => Justify.BlockId;
}

/// <summary>A header with its transactions. The id is SHA-256 over the header's canonical encoding.</summary>
public sealed class Block
{
    private Block(BlockHeader header, IReadOnlyList<byte[]> transactions, Hash32 id, Hash32[] transactionHashes, int encodedSize)
    {
        Header = header;
        Transactions = transactions;
        Id = id;
        TransactionHashes = transactionHashes;
        EncodedSize = encodedSize;
    }

    private static readonly byte[] IdDomain = "idos-akka/block-id/v1"u8.ToArray();

    public BlockHeader Header { get; }

    public IReadOnlyList<byte[]> Transactions { get; }

    public Hash32 Id { get; }

    public IReadOnlyList<Hash32> TransactionHashes { get; }

    /// <summary>Bytes of header and body on the wire; what block-size limits are measured in.</summary>
    public int EncodedSize { get; }

    public long Round => Header.Round;

    public long Height => Header.Height;

    public Hash32 ParentId => Header.ParentId;

    /// <summary>Builds a block from its parts; the transaction count and Merkle root come from the transactions.</summary>
    public static Block Create(
        long round,
        long height,
        QuorumCertificate justify,
        int proposer,
        long timestamp,
        IReadOnlyList<byte[]> transactions,
        long executedHeight,
        Hash32 executedAppHash,
        byte[]? failedProposers = null,
        long epoch = 0,
        Hash32 setHash = default,
        Hash32 nextSetHash = default)
    {
        var hashes = HashTransactions(transactions);
        var header = new BlockHeader(round, height, justify, proposer, timestamp, MerkleTree.Root(hashes), transactions.Count,
            executedHeight, executedAppHash) { FailedProposers = failedProposers ?? [], Epoch = epoch, SetHash = setHash, NextSetHash = nextSetHash };
        return FromParts(header, transactions, hashes);
    }

    /// <summary>Wraps decoded parts without trusting them: the header may disagree with the body (see <see cref="BodyMatchesHeader"/>).</summary>
    public static Block FromParts(BlockHeader header, IReadOnlyList<byte[]> transactions) =>
        FromParts(header, transactions, HashTransactions(transactions));

    public static Hash32 TransactionHash(ReadOnlySpan<byte> transaction) => Hash32.Compute(transaction);

    /// <summary>Whether the body is the one the header committed to.</summary>
    public bool BodyMatchesHeader() =>
        Header.TxCount == Transactions.Count && Header.TxRoot == MerkleTree.Root(TransactionHashes);

    public override string ToString() => $"block {Id.ToShortString()} r{Round} h{Height} txs={Transactions.Count}";

    private static Block FromParts(BlockHeader header, IReadOnlyList<byte[]> transactions, Hash32[] hashes)
    {
        var headerBytes = ConsensusCodec.EncodeHeader(header);
        var bodySize = 4 + transactions.Sum(t => 4 + t.Length);
        return new Block(header, transactions, ComputeId(headerBytes), hashes, headerBytes.Length + bodySize);
    }

    /// <summary>The id a block with this header has, whatever its body.</summary>
    public static Hash32 IdOf(BlockHeader header) => ComputeId(ConsensusCodec.EncodeHeader(header));

    private static Hash32 ComputeId(ReadOnlySpan<byte> headerBytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(IdDomain);
        hash.AppendData(headerBytes);
        Span<byte> digest = stackalloc byte[Hash32.Size];
        hash.GetHashAndReset(digest);
        return new Hash32(digest);
    }

    private static Hash32[] HashTransactions(IReadOnlyList<byte[]> transactions)
    {
        var hashes = new Hash32[transactions.Count];
        for (var i = 0; i < hashes.Length; i++)
        {
            hashes[i] = TransactionHash(transactions[i]);
        }

        return hashes;
    }
}

/// <summary>A committed block whose body was pruned: the header and the hashes of its transactions, in order.</summary>
public sealed record PrunedBlock(BlockHeader Header, IReadOnlyList<Hash32> TransactionHashes)
{
    public Hash32 Id => Block.IdOf(Header);

    /// <summary>Whether the hashes are the ones the header's Merkle root committed to.</summary>
    public bool HashesMatchHeader() => Header.TxCount == TransactionHashes.Count && Header.TxRoot == MerkleTree.Root(TransactionHashes);
}
