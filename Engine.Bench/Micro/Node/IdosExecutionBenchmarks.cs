using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Auth;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Transactions;
using NSec.Cryptography;

namespace IdOS.Akka.Engine.Bench.Micro.Node;

/// <summary>
/// What executing idOS writes costs one validator on SQLite: a block of 2,000 `add_user_as_inserter` transactions
/// from 16 inserter delegates (the localnet load), each with its nonce, savepoint, result row and changed-row digest,
/// with the signatures checked again at execution or, as the node does for what its own mempool admitted, not.
/// </summary>
public class IdosExecutionBenchmarks : IDisposable
{
    private const string Chain = "bench";
    private const int Transactions = 2_000;
    private readonly List<Key> _keys = [];
    private List<KwilSigner> _writers = null!;
    private KwilSigner _owner = null!;
    private ulong[] _nonces = null!;
    private string _directory = null!;
    private StateDatabase _state = null!;
    private BlockExecutor _executor = null!;
    private VerifiedSignatures _verified = null!;
    private BlockInput _block = null!;
    private byte[] _previous = null!;

    [Params(false, true)]
    public bool SignaturesAlreadyVerified { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("idos-bench-").FullName;
        _state = StateDatabase.Open(StateStoreOptions.Sqlite(Path.Combine(_directory, "state.db")));
        _owner = Signer();
        _writers = [.. Enumerable.Range(0, 16).Select(_ => Signer())];
        _nonces = new ulong[_writers.Count];
        _verified = new VerifiedSignatures();
        _executor = new BlockExecutor(_state, Chain, new HashSet<string> { _owner.Caller }, Secp256k1.Recovery, _verified);
        var inserter = Guid.NewGuid();
        List<byte[]> setup = [_owner.Execute(Chain, 1, "add_inserter_as_owner", [KwilValue.OfUuid(inserter), KwilValue.OfText("bench")])];
        setup.AddRange(_writers.Select((w, i) => _owner.Execute(Chain, (ulong)i + 2, "add_delegate_as_owner", [KwilValue.OfText(w.Caller), KwilValue.OfUuid(inserter)])));
        _previous = _executor.Execute(new BlockInput(1, [1], 1_700_000_000_000, setup), new byte[32]);
    }

    [IterationSetup]
    public void NextBlock()
    {
        var transactions = new List<byte[]>(Transactions);
        for (var i = 0; i < Transactions; i++)
        {
            var writer = i % _writers.Count;
            transactions.Add(_writers[writer].Execute(Chain, ++_nonces[writer], "add_user_as_inserter",
                [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("recipient-key"), KwilValue.OfText("user")]));
            if (SignaturesAlreadyVerified)
            {
                _verified.Add(System.Security.Cryptography.SHA256.HashData(transactions[^1]));
            }
        }

        var height = _executor.ExecutedHeight + 1;
        _block = new BlockInput(height, BitConverter.GetBytes(height), 1_700_000_000_000 + (height * 1_000), transactions);
    }

    [Benchmark(OperationsPerInvoke = Transactions)]
    public byte[] ExecuteAddUserBlock() => _previous = _executor.Execute(_block, _previous);

    [GlobalCleanup]
    public void Dispose()
    {
        _state?.Dispose();
        _keys.ForEach(k => k.Dispose());
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    private KwilSigner Signer()
    {
        var key = Key.Create(SignatureAlgorithm.Ed25519);
        _keys.Add(key);
        return KwilSigner.ForEd25519(key);
    }
}
