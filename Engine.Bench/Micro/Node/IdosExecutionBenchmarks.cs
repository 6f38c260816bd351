using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Crypto;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Queries;
using NSec.Cryptography;

namespace IdOS.Akka.Engine.Bench.Micro.Node;

/// <summary>
/// What executing idOS writes costs one validator on SQLite, per action kind: blocks of 2,000 transactions — from 16
/// inserter delegates (the localnet load): new users, users' key updates, 1 KiB attributes for existing users; and
/// from 2,000 users signing with their own EVM wallets (the cluster benchmark's idOS workload): 1 KiB attributes,
/// 1 KiB credentials with the issuer's signatures, further wallets with their EIP-191 proofs, and copies of a
/// credential shared with a grantee (a copy and its access grant) — each with its nonce, savepoint, result row and changed-row digest,
/// with the signatures checked again at execution or, as the node does for what its own mempool admitted, not. Setup
/// checks that every kind executes with code 0, so no figure is the cost of a refusal.
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

    private const string AddUser = "add_user_as_inserter";
    private const string UpdateUserKey = "update_user_pub_key_as_inserter";
    private const string AddAttribute = "add_attribute_as_inserter";
    private const string UserAddsAttribute = "add_attribute";
    private const string UserAddsCredential = "add_credential";
    private const string UserAddsWallet = "add_wallet";
    private const string UserSharesCredential = "share_credential";
    private Guid[] _users = null!;
    private Guid[] _credentials = null!;
    private string _grantee = null!;
    private KwilSigner[] _wallets = null!;
    private ulong[] _walletNonces = null!;
    private Engine.Crypto.Ed25519PrivateKey _issuer = null!;
    private string _attributeValue = null!;

    [Params(AddUser, UpdateUserKey, AddAttribute, UserAddsAttribute, UserAddsCredential, UserAddsWallet, UserSharesCredential)]
    public string Action { get; set; } = AddUser;

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
        _attributeValue = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(768));
        _users = [.. Enumerable.Range(0, Transactions).Select(_ => Guid.NewGuid())];
        ExecuteChecked(Enumerable.Range(0, Transactions).Select(i => Call(i, AddUser, UserArguments(_users[i], "recipient-key"))).ToList());
        _issuer = Engine.Crypto.Ed25519PrivateKey.GenerateExportable();
        var walletKeys = Enumerable.Range(0, Transactions).Select(_ => EvmKey.Generate()).ToList();
        _wallets = [.. walletKeys.Select(KwilSigner.ForEvm)];
        _walletNonces = new ulong[Transactions];
        ExecuteChecked(Enumerable.Range(0, Transactions).Select(i =>
            Call(i, "upsert_wallet_as_inserter", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfUuid(_users[i]), .. Cli.Localnet.IdosFlow.WalletProof(walletKeys[i])])).ToList());
        _credentials = [.. Enumerable.Range(0, Transactions).Select(_ => Guid.NewGuid())];
        _grantee = EvmKey.Generate().ChecksumAddress;
        if (Action == UserSharesCredential)
        {
            ExecuteChecked(Enumerable.Range(0, Transactions).Select(i => Call(i, UserAddsCredential, CredentialArguments(_credentials[i]))).ToList());
        }
        ExecuteChecked(Enumerable.Range(0, _writers.Count).Select(i => Call(i, Action, Arguments(i, 0))).ToList());
    }

    [IterationSetup]
    public void NextBlock()
    {
        var round = _executor.ExecutedHeight;
        var transactions = new List<byte[]>(Transactions);
        for (var i = 0; i < Transactions; i++)
        {
            transactions.Add(Call(i, Action, Arguments(i, round)));
            if (SignaturesAlreadyVerified)
            {
                // As a validator's mempool admits it: the verdict and the decoded form are kept for execution.
                if (TransactionGate.RefusalForMempool(transactions[^1], Chain, Secp256k1.Recovery, _verified) is { } refusal)
                {
                    throw new InvalidOperationException($"The benchmark's transaction was refused: {refusal}");
                }
            }
        }

        _block = NextBlockOf(transactions);
    }

    [Benchmark(OperationsPerInvoke = Transactions)]
    public byte[] ExecuteBlock() => _previous = _executor.Execute(_block, _previous);

    private KwilValue[] Arguments(int i, long round) => Action switch
    {
        AddUser => UserArguments(Guid.NewGuid(), "recipient-key"),
        UpdateUserKey => UserArguments(_users[i % _users.Length], $"recipient-key-{round}"),
        UserAddsAttribute => [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("bench-attribute"), KwilValue.OfText(_attributeValue)],
        UserAddsCredential => CredentialArguments(Guid.NewGuid()),
        UserAddsWallet => [KwilValue.OfUuid(Guid.NewGuid()), .. Cli.Localnet.IdosFlow.WalletProof(EvmKey.Generate())],
        UserSharesCredential => Cli.Localnet.IdosFlow.Share(_issuer, Guid.NewGuid(), _credentials[i % _credentials.Length], _attributeValue, _grantee, 0),
        _ => [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfUuid(_users[i % _users.Length]), KwilValue.OfText("bench-attribute"), KwilValue.OfText(_attributeValue)],
    };

    private KwilValue[] CredentialArguments(Guid id) =>
        [KwilValue.OfUuid(id), KwilValue.OfText(_issuer.PublicKey.ToString()), KwilValue.OfText("encryptor-key"), .. Cli.Localnet.IdosFlow.SignedContent(_issuer, _attributeValue, "")];

    private static KwilValue[] UserArguments(Guid id, string key) => [KwilValue.OfUuid(id), KwilValue.OfText(key), KwilValue.OfText("user")];

    /// <summary>The next transaction of user <c>i</c> for the users' own actions, else of writer <c>i mod 16</c>, with its next nonce.</summary>
    private byte[] Call(int i, string action, KwilValue[] arguments)
    {
        if (action is UserAddsAttribute or UserAddsCredential or UserAddsWallet or UserSharesCredential)
        {
            return _wallets[i].Execute(Chain, ++_walletNonces[i], action, arguments);
        }

        var writer = i % _writers.Count;
        return _writers[writer].Execute(Chain, ++_nonces[writer], action, arguments);
    }

    private BlockInput NextBlockOf(List<byte[]> transactions)
    {
        var height = _executor.ExecutedHeight + 1;
        return new BlockInput(height, BitConverter.GetBytes(height), 1_700_000_000_000 + (height * 1_000), transactions);
    }

    private void ExecuteChecked(List<byte[]> transactions)
    {
        _previous = _executor.Execute(NextBlockOf(transactions), _previous);
        var (_, results) = new StateReader(_state, _owner.Caller).TransactionResults([.. transactions.Select(System.Security.Cryptography.SHA256.HashData)]);
        foreach (var result in results)
        {
            if (result is not { Code: TxCode.Ok })
            {
                throw new InvalidOperationException(result is null
                    ? $"{Action}: a setup transaction has no result"
                    : $"{Action} does not execute cleanly here: code {result.Code}, {result.Log}");
            }
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _state?.Dispose();
        _issuer?.Dispose();
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
