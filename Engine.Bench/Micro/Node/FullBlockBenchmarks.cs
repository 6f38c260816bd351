using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;

namespace IdOS.Akka.Engine.Bench.Micro.Node;

/// <summary>
/// What one full block costs a validator on the node path: 10,000 signed opaque transactions of 100 bytes (the
/// localnet load) checked at admission, the block decoded and its body re-hashed, kept before the vote, stored at
/// commit, and its transaction hashes indexed.
/// </summary>
public class FullBlockBenchmarks : IDisposable
{
    private const int Transactions = 10_000;
    private List<byte[]> _transactions = null!;
    private Block _block = null!;
    private byte[] _proposalBytes = null!;
    private QuorumCertificate _qc = null!;
    private ChainParameters _chain = null!;
    private string _directory = null!;
    private SqliteBlockStore _store = null!;
    private Chain.TransactionIndexFiles _index = null!;
    private byte[] _hashes = null!;

    [GlobalSetup]
    public void Setup()
    {
        var keys = Enumerable.Range(0, 4).Select(SimWorld.ValidatorKey).ToArray();
        _chain = new ChainParameters("bench", new ValidatorSet([.. keys.Select(k => k.PublicKey)]), 1_700_000_000_000);
        using var client = Ed25519PrivateKey.GenerateExportable();
        _transactions = [.. Enumerable.Range(1, Transactions).Select(i => OpaqueTransaction.CreateNumbered(client, i, 100))];
        _block = Block.Create(1, 1, _chain.GenesisQc, 1, _chain.GenesisBlock.Header.Timestamp + 1, _transactions, 0, _chain.GenesisAppHash, setHash: _chain.Validators.Hash);
        _proposalBytes = ConsensusCodec.Encode(new Proposal(_block, keys[1].Sign(_chain.Domain.Proposal(_block.Id)), null));
        _qc = QuorumCertificate.ForGenesis(_block.Id, 4);
        _directory = Directory.CreateTempSubdirectory("idos-bench-").FullName;
    }

    [IterationSetup(Target = nameof(StoreCommittedBlock))]
    public void FreshStore()
    {
        _store?.Dispose();
        File.Delete(Path.Combine(_directory, "blocks.db"));
        _store = new SqliteBlockStore(Path.Combine(_directory, "blocks.db"), _chain.Limits);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _store?.Dispose();
        _index?.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public int CheckSignaturesAtAdmission() => _transactions.Count(t => OpaqueTransaction.Check(t, Ed25519Verifier.Instance) is null);

    [Benchmark]
    public bool DecodeProposalAndRehashBody() =>
        ConsensusCodec.TryDecode(_proposalBytes, _chain.Limits, out var message, out _) && ((Proposal)message).Block.BodyMatchesHeader();

    /// <summary>
    /// What the store writes for a block: kept before the vote, then its row, then its app hash once executed; the hash
    /// index comes later.
    /// </summary>
    [Benchmark]
    public long StoreCommittedBlock()
    {
        _store.Keep(_block);
        _store.Append(_block, _qc);
        _store.RecordAppHash(_block.Height, _chain.GenesisAppHash);
        return _store.Height;
    }

    /// <summary>What the store's index writer then does for the block, off the commit path: 10,000 hashes as one sorted run.</summary>
    [Benchmark]
    public long IndexTransactionHashes()
    {
        _index.IndexTransactions([(_index.IndexedHeight() + 1, _hashes)]);
        return _index.IndexedHeight();
    }

    [IterationSetup(Target = nameof(IndexTransactionHashes))]
    public void FreshIndex()
    {
        _index?.Dispose();
        var path = Path.Combine(_directory, "index");
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        _index = Chain.TransactionIndexFiles.Open(path);
        _hashes = [.. _block.TransactionHashes.SelectMany(h => h.ToArray())];
    }
}
