using System.Numerics;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Queries;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;
using LinqToDB.Data;
using NSec.Cryptography;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// Committed blocks of signed Kwil transactions executed against the idOS state: results and nonces as kwild
/// records them, one database transaction per block, and the same app hashes on SQLite and PostgreSQL.
/// </summary>
public abstract class BlockExecutorTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    private const string Chain = "idos-test";
    private static readonly Guid Inserter = Guid.Parse("11111111-1111-4111-8111-111111111111");
    private static readonly Guid User = Guid.Parse("22222222-2222-4222-8222-222222222222");
    private readonly Key _owner = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });
    private readonly Key _issuer = Key.Create(SignatureAlgorithm.Ed25519, new KeyCreationParameters { ExportPolicy = KeyExportPolicies.AllowPlaintextExport });

    [Fact]
    public void Transactions_run_in_order_with_their_results_and_the_state_they_build()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state);

        var results = Results(state, executor, Blocks()[0], Blocks()[1]);

        // The second add_user repeats the first: a failed transaction in the middle of a committed block.
        Assert.Equal([TxCode.Ok, TxCode.Ok, TxCode.Ok, 113], results.Select(r => r.Code));
        Assert.Contains("already exists", results[3].Log, StringComparison.Ordinal);
        Assert.Equal(results[2].TransactionHash, new StateReader(state, "").TransactionResults([results[2].TransactionHash]).Results[0]!.TransactionHash);
        Assert.Equal("issuer", state.Connection.GetTable<UserRow>().Single(u => u.Id == User).Inserter);
        Assert.Equal(2, executor.ExecutedHeight);
        Assert.Equal(2L, state.Connection.GetTable<AccountRow>().Single(a => a.Identifier == Public(_owner)).Nonce);
    }

    [Fact]
    public void Bad_transactions_fail_with_kwils_codes_a_refused_action_spends_its_nonce_and_changes_nothing()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state);
        var good = Tx(_owner, 1, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer"));
        var forged = (byte[])good.Clone();
        forged[^40] ^= 1;

        var results = Results(state, executor, new BlockInput(1, [1], 1_700_000_000_000,
        [
            [1, 2, 3],
            Tx(_owner, 1, "add_inserter_as_owner", Chain + "-other", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer")),
            Tx(_owner, 5, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer")),
            Tx(_issuer, 1, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer")),
            Tx(_issuer, 2, "add_user_as_inserter", KwilValue.OfUuid(User), KwilValue.OfText("key"), KwilValue.OfText("user")),
            good,
            good,
        ]));

        Assert.Equal([TxCode.Encoding, TxCode.WrongChain, TxCode.InvalidNonce, 111, 111, TxCode.Ok, TxCode.InvalidNonce], results.Select(r => r.Code));
        Assert.Contains("network owner", results[3].Log, StringComparison.Ordinal);
        Assert.Contains("Unauthorized inserter", results[4].Log, StringComparison.Ordinal);
        Assert.Equal(2L, state.Connection.GetTable<AccountRow>().Single(a => a.Identifier == Public(_issuer)).Nonce);
        Assert.Single(state.Connection.GetTable<InserterRow>());
        Assert.Empty(state.Connection.GetTable<UserRow>());
    }

    /// <summary>PostgreSQL cannot store NUL or invalid UTF-8; both are refused before they reach either database.</summary>
    [Fact]
    public void Text_a_database_cannot_store_fails_the_transaction_and_never_the_block()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state);
        var invalidUtf8 = new KwilValue(KwilDataType.Text, [[0xC3, 0x28]]);
        var body = new KwilTransactionBody("odd", [1, 2, 3], "exec\0ute", BigInteger.Zero, 3, Chain);
        var oddType = new KwilTransaction(new KwilSignature(SignatureAlgorithm.Ed25519.Sign(_owner, System.Text.Encoding.UTF8.GetBytes(KwilTransaction.SignedText(body))), "ed25519"),
            body, "concat", Public(_owner)).ToBytes();

        var results = Results(state, executor, new BlockInput(1, [1], 1_700_000_000_000,
        [
            Tx(_owner, 1, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("iss\0uer")),
            Tx(_owner, 2, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), invalidUtf8),
            oddType,
            Tx(_owner, 4, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer")),
        ]));

        Assert.Equal([110, 110, TxCode.InvalidTransactionType, TxCode.Ok], results.Select(r => r.Code));
        Assert.Contains("NUL", results[0].Log, StringComparison.Ordinal);
        Assert.Contains("UTF-8", results[1].Log, StringComparison.Ordinal);
        Assert.DoesNotContain('\0', results[2].Log);
    }

    /// <summary>A database error inside an action (here a trigger standing in for a missed check) fails that transaction only.</summary>
    [Fact]
    public void A_database_error_inside_an_action_fails_only_that_transaction()
    {
        using var state = StateDatabase.Open(Options);
        if (state.Dialect == Engine.Storage.Migrations.SqlDialect.Sqlite)
        {
            state.Connection.Execute("CREATE TRIGGER refuse_users BEFORE INSERT ON users BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
        }
        else
        {
            state.Connection.Execute("CREATE FUNCTION refuse_users() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$");
            state.Connection.Execute("CREATE TRIGGER refuse_users BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_users()");
        }

        var executor = Executor(state);
        var blocks = Blocks();
        var results = Results(state, executor, blocks[0], blocks[1] with
        {
            Transactions = [.. blocks[1].Transactions, Tx(_owner, 3, "add_inserter_as_owner", KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText("second"))],
        });

        Assert.Equal([TxCode.Ok, TxCode.Ok, 199, 199, TxCode.Ok], results.Select(r => r.Code));
        Assert.Equal("internal error: the database refused the change", results[2].Log);
        Assert.Equal(2, state.Connection.GetTable<InserterRow>().Count());
    }

    /// <summary>Accounts are keyed as kwild keys them and `user.account` asks: secp256k1 for Ethereum, ed25519 for ed25519 and NEAR keys.</summary>
    [Fact]
    public void Nonces_are_kept_per_identifier_and_kwil_key_type()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state);
        using var nearKey = Key.Create(SignatureAlgorithm.Ed25519);
        var near = KwilSigner.ForNear(nearKey);
        var evm = KwilSigner.ForEvm(EvmKey.Generate());

        Results(state, executor, new BlockInput(1, [1], 1_700_000_000_000,
            [near.Execute(Chain, 1, "has_profile", [KwilValue.OfText("x")]), evm.Execute(Chain, 1, "has_profile", [KwilValue.OfText("x")])]));

        var accounts = state.Connection.GetTable<AccountRow>().ToList();
        Assert.Equal("ed25519", accounts.Single(a => a.Identifier.AsSpan().SequenceEqual(near.Sender)).KeyType);
        Assert.Equal("secp256k1", accounts.Single(a => a.Identifier.AsSpan().SequenceEqual(evm.Sender)).KeyType);
        Assert.All(state.Connection.GetTable<TransactionResultRow>(), r => Assert.Equal(TxCode.Ok, r.Code));
    }

    [Fact]
    public void A_height_is_executed_once_and_heights_are_not_skipped()
    {
        using var state = StateDatabase.Open(Options);
        var executor = Executor(state);
        var blocks = Blocks();
        var first = executor.Execute(blocks[0], new byte[32]);

        Assert.Equal(first, executor.Execute(blocks[0], new byte[32]));
        Assert.Throws<InvalidOperationException>(() => executor.Execute(blocks[1] with { Height = 3 }, first));
        Assert.Single(state.Connection.GetTable<InserterRow>());
    }

    /// <summary>
    /// Two validators whose copies of a row differ (silent corruption of one) record the same results, yet disagree
    /// on the app hash at the first block whose transaction changes that row, because the hash covers its content.
    /// </summary>
    [Fact]
    public void The_rows_a_transaction_changes_are_in_the_app_hash()
    {
        using var sound = StateDatabase.Open(Options);
        using var corruptFile = new SqliteTestFile();
        using var corrupt = StateDatabase.Open(corruptFile.Options);
        var update = new BlockInput(3, [3], 1_700_000_002_000,
            [Tx(_issuer, 3, "update_user_pub_key_as_inserter", KwilValue.OfUuid(User), KwilValue.OfText("key-2"), KwilValue.OfText("user"))]);

        var soundHashes = Run(sound, corruptBeforeLastBlock: false);
        var corruptHashes = Run(corrupt, corruptBeforeLastBlock: true);

        Assert.Equal(soundHashes[..2], corruptHashes[..2]);
        Assert.NotEqual(soundHashes[2], corruptHashes[2]);
        Assert.Equal(
            sound.Connection.GetTable<TransactionResultRow>().OrderBy(r => r.Height).Select(r => r.Code).ToList(),
            corrupt.Connection.GetTable<TransactionResultRow>().OrderBy(r => r.Height).Select(r => r.Code).ToList());

        List<byte[]> Run(StateDatabase state, bool corruptBeforeLastBlock)
        {
            var executor = Executor(state);
            var hashes = new List<byte[]>();
            var previous = new byte[32];
            foreach (var block in Blocks().Append(update))
            {
                if (block.Height == 3 && corruptBeforeLastBlock)
                {
                    state.Connection.GetTable<UserRow>().Where(u => u.Id == User).Set(u => u.GasAllowance, "1").Update();
                    state.Connection.GetTable<RowChangeRow>().Delete();
                }

                previous = executor.Execute(block, previous);
                hashes.Add(previous);
            }

            return hashes;
        }
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

    /// <summary>The app hashes of the two scripted blocks on a database.</summary>
    protected List<byte[]> AppHashes(StateStoreOptions options)
    {
        using var state = StateDatabase.Open(options);
        var executor = Executor(state);
        var hashes = new List<byte[]>();
        var previous = new byte[32];
        foreach (var block in Blocks())
        {
            previous = executor.Execute(block, previous);
            hashes.Add(previous);
        }

        return hashes;
    }

    private BlockExecutor Executor(StateDatabase state) =>
        new(state, Chain, new HashSet<string> { Convert.ToHexStringLower(Public(_owner)) }, Secp256k1.Recovery);

    private List<BlockInput> Blocks() =>
    [
        new BlockInput(1, [1], 1_700_000_000_000,
        [
            Tx(_owner, 1, "add_inserter_as_owner", KwilValue.OfUuid(Inserter), KwilValue.OfText("issuer")),
            Tx(_owner, 2, "add_delegate_as_owner", KwilValue.OfText(Convert.ToHexStringLower(Public(_issuer))), KwilValue.OfUuid(Inserter)),
        ]),
        new BlockInput(2, [2], 1_700_000_001_000,
        [
            Tx(_issuer, 1, "add_user_as_inserter", KwilValue.OfUuid(User), KwilValue.OfText("key"), KwilValue.OfText("user")),
            Tx(_issuer, 2, "add_user_as_inserter", KwilValue.OfUuid(User), KwilValue.OfText("key"), KwilValue.OfText("user")),
        ]),
    ];

    private static List<TransactionResultRow> Results(StateDatabase state, BlockExecutor executor, params BlockInput[] blocks)
    {
        var previous = new byte[32];
        foreach (var block in blocks)
        {
            previous = executor.Execute(block, previous);
        }

        return [.. state.Connection.GetTable<TransactionResultRow>().OrderBy(r => r.Height).ThenBy(r => r.Position)];
    }

    private static byte[] Public(Key key) => Ed25519Transactions.PublicKey(key);

    private static byte[] Tx(Key key, ulong nonce, string action, params KwilValue[] arguments) => Tx(key, nonce, action, Chain, arguments);

    private static byte[] Tx(Key key, ulong nonce, string action, string chain, params KwilValue[] arguments) =>
        Ed25519Transactions.Execute(key, chain, nonce, action, arguments);
}

[Trait("Category", "Unit")]
public sealed class SqliteBlockExecutorTests : BlockExecutorTests<SqliteTestFile>;

[Trait("Category", "Postgres")]
public sealed class PostgresBlockExecutorTests : BlockExecutorTests<PostgresTestSchema>
{
    private readonly SqliteTestFile _file = new();

    [Fact]
    public void The_same_blocks_give_the_same_app_hashes_on_postgresql_and_sqlite()
    {
        var onPostgres = AppHashes(Options);
        var onSqlite = AppHashes(_file.Options);

        Assert.Equal(onSqlite, onPostgres);
        Assert.NotEqual(onSqlite[0], onSqlite[1]);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file.Dispose();
        }

        base.Dispose(disposing);
    }
}
