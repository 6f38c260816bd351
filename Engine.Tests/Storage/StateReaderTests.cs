using System.Text;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Reads;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Queries;
using NSec.Cryptography;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// Reads of committed state in batches: every answer of a batch from the same height, VIEW actions only, a caller's
/// private rows only to that caller, and results, nonces and app hashes of what was executed.
/// </summary>
public abstract class StateReaderTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    private const string Chain = "idos-read-test";
    private static readonly Guid User = Guid.NewGuid();
    private readonly Key _owner = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
    private readonly Key _issuer = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
    private readonly EvmKey _wallet = EvmKey.Generate();

    [Fact]
    public void A_batch_answers_from_one_height_and_shows_a_users_rows_only_to_that_user()
    {
        using var state = StateDatabase.Open(Options);
        var (owner, issuer) = (KwilSigner.ForEd25519(_owner), KwilSigner.ForEd25519(_issuer));
        var executor = new BlockExecutor(state, Chain, new HashSet<string> { owner.Caller }, Secp256k1.Recovery);
        var inserter = Guid.NewGuid();
        const string Message = "my wallet";
        var proof = Convert.ToHexStringLower(_wallet.SignPersonal(Encoding.UTF8.GetBytes(Message)));
        var addUser = issuer.Execute(Chain, 1, "add_user_as_inserter", [KwilValue.OfUuid(User), KwilValue.OfText("key"), KwilValue.OfText("user")]);
        var first = executor.Execute(new BlockInput(1, [1], 1_700_000_000_000,
        [
            owner.Execute(Chain, 1, "add_inserter_as_owner", [KwilValue.OfUuid(inserter), KwilValue.OfText("issuer")]),
            owner.Execute(Chain, 2, "add_delegate_as_owner", [KwilValue.OfText(issuer.Caller), KwilValue.OfUuid(inserter)]),
        ]), new byte[32]);
        var second = executor.Execute(new BlockInput(2, [2], 1_700_000_001_000,
        [
            addUser,
            issuer.Execute(Chain, 2, "upsert_wallet_as_inserter", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfUuid(User), KwilValue.OfText(_wallet.ChecksumAddress),
                KwilValue.OfText(null), KwilValue.OfText("EVM"), KwilValue.OfText(Message), KwilValue.OfText(proof)]),
        ]), first);

        using var readConnection = StateDatabase.Open(Options);
        var reader = new StateReader(readConnection, owner.Caller);
        var user = new ReadCaller(_wallet.ChecksumAddress, _wallet.Address, KwilAuthenticator.EthereumPersonalSign);
        var batch = reader.Read(
        [
            new ViewRequest(user, "get_user", []),
            new ViewRequest(ReadCaller.Anonymous, "get_user", []),
            new ViewRequest(ReadCaller.Anonymous, "has_profile", [KwilValue.OfText(_wallet.ChecksumAddress.ToLowerInvariant())]),
            new ViewRequest(user, "add_attribute", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("k"), KwilValue.OfText("v")]),
            new ViewRequest(user, "no_such_action", []),
        ], [new AccountKey(issuer.Sender, KwilAuthenticator.Ed25519Type), new AccountKey(_wallet.Address, "secp256k1")]);

        Assert.Equal(2, batch.Height);
        Assert.False(batch.Behind);
        var ahead = reader.Read([new ViewRequest(user, "get_user", [])], [new AccountKey(issuer.Sender, KwilAuthenticator.Ed25519Type)], atLeastHeight: 3);
        Assert.Equal((true, 2L, 0, 0), (ahead.Behind, ahead.Height, ahead.Results.Count, ahead.NextNonces.Count));
        Assert.Equal([3L, 1L], batch.NextNonces);
        Assert.Equal(User, Assert.Single(batch.Results[0].Outcome!.Rows)[0]);
        Assert.Equal((TxCode.ForAction(ActionError.NotFound), null), (batch.Results[1].Code, batch.Results[1].Outcome));
        Assert.Equal(true, batch.Results[2].Outcome!.Rows[0][0]);
        Assert.Equal(TxCode.ForAction(ActionError.Unauthorized), batch.Results[3].Code);
        Assert.Equal(TxCode.ForAction(ActionError.UnknownAction), batch.Results[4].Code);

        var (height, results) = reader.TransactionResults([System.Security.Cryptography.SHA256.HashData(addUser), new byte[32]]);
        Assert.Equal((2L, 0, 2L), (height, results[0]!.Code, results[0]!.Height));
        Assert.Null(results[1]);
        Assert.Equal((3L, 2L), reader.NextNonce(issuer.Sender, KwilAuthenticator.Ed25519Type));
        Assert.Equal(second, reader.AppHashAt(2));
        Assert.Null(reader.AppHashAt(3));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _owner.Dispose();
            _issuer.Dispose();
        }

        base.Dispose(disposing);
    }
}

[Trait("Category", "Unit")]
public sealed class SqliteStateReaderTests : StateReaderTests<SqliteTestFile>;

[Trait("Category", "Postgres")]
public sealed class PostgresStateReaderTests : StateReaderTests<PostgresTestSchema>;
