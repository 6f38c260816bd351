using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Tests.Consensus;
using IdOS.Akka.Engine.Tests.Storage;
using LinqToDB;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Application;

/// <summary>
/// A step that commits several blocks writes them to the block store at once; the executor then writes the state once
/// per block, and each app hash it reports is recorded in the block store after it. A crash may fall between any two
/// of those writes; the node reopened on the same files must come back level (executing what was stored and not
/// executed, recording what was executed and not recorded), commit the rest once more, and end where a node that never
/// crashed ends: same app hash, every transaction executed once. The state runs on each real store, the block store on
/// its SQLite file.
/// </summary>
public abstract class CommitCrashPointTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    private const int StepBlocks = 3;
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-crash-point-");
    private readonly Ed25519PrivateKey _owner = Ed25519PrivateKey.GenerateExportable();
    private readonly ChainParameters _chain;

    protected CommitCrashPointTests()
    {
        using var validator = Ed25519PrivateKey.GenerateExportable();
        _chain = new ChainParameters("idos-crash-point", new ValidatorSet([validator.PublicKey]), 1_700_000_000_000, databaseOwner: _owner.PublicKey.ToString());
    }

    private KwilSigner Owner => KwilSigner.ForEd25519(_owner.PublicKey.Bytes, message => _owner.Sign(message));

    [Fact]
    public void A_crash_between_any_two_writes_of_a_multi_block_commit_recovers_to_the_same_state_with_nothing_executed_twice()
    {
        var (blocks, expected) = ReferenceRun();

        // Writes of the step: the block store once, then for each block the state and the app hash's record.
        for (var crashAfter = 0; crashAfter <= (2 * StepBlocks) + 1; crashAfter++)
        {
            var run = Path.Combine(_dir.FullName, $"crash-{crashAfter}");
            Directory.CreateDirectory(run);
            using (var schema = new TStore())
            {
                using (var store = Store(run))
                using (var app = IdosApplication.Open(schema.Options, _chain, store, Secp256k1.Recovery))
                {
                    CommitStep(store, app, blocks.Take(1));
                    CommitStep(store, app, blocks.Skip(1), crashAfter);
                }

                using (var store = Store(run))
                using (var app = IdosApplication.Open(schema.Options, _chain, store, Secp256k1.Recovery))
                {
                    ExecutionCatchUp.Run(app, store);
                    Assert.Equal((store.Height, store.Height), (app.ExecutedHeight, store.ExecutedHeight));
                    Assert.Equal(crashAfter == 0 ? 1 : 1 + StepBlocks, store.Height);

                    // Consensus hands the committed blocks above the store over again, as it recommits them.
                    CommitStep(store, app, blocks.Skip((int)store.Height));

                    Assert.Equal((1L + StepBlocks, expected), (store.Height, app.AppHash));
                    Assert.Equal(expected, store.AppHashAt(1 + StepBlocks));
                    var results = app.State.Connection.GetTable<TransactionResultRow>().ToList();
                    Assert.Equal(blocks.Sum(b => b.Transactions.Count), results.Count);
                    Assert.All(results, r => Assert.Equal(0, r.Code));
                    Assert.Equal(1 + StepBlocks, app.State.Connection.GetTable<InserterRow>().Count());
                }
            }
        }
    }

    [Fact]
    public void A_state_from_another_data_folder_is_refused_where_it_disagrees_with_the_block_store()
    {
        var (blocks, _) = ReferenceRun();
        using var schema = new TStore();
        var other = Path.Combine(_dir.FullName, "other");
        Directory.CreateDirectory(other);
        using (var store = Store(other))
        using (var app = IdosApplication.Open(schema.Options, _chain, store, Secp256k1.Recovery))
        {
            CommitStep(store, app, blocks);
        }

        // Another folder whose block store committed a different block 1 than the one the state executed.
        var elsewhere = Path.Combine(_dir.FullName, "elsewhere");
        Directory.CreateDirectory(elsewhere);
        var different = Block.Create(1, 1, new QuorumCertificate(_chain.GenesisBlock.Id, 0, [], []), 0, _chain.GenesisBlock.Header.Timestamp + 7, [], 0,
            _chain.GenesisAppHash);
        using (var store = Store(elsewhere))
        {
            using var batch = store.BeginBatch();
            store.AppendExecuted(different, new QuorumCertificate(different.Id, different.Round, [], []), Hash32.Compute([7]));
            batch.Commit();
        }

        using (var store = Store(elsewhere))
        {
            var refused = Assert.Throws<InvalidOperationException>(() => IdosApplication.Open(schema.Options, _chain, store, Secp256k1.Recovery));
            Assert.Contains("belong to different data folders", refused.Message, StringComparison.Ordinal);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _owner.Dispose();
            _dir.Delete(recursive: true);
        }

        base.Dispose(disposing);
    }

    /// <summary>Blocks 1 to 1 + <see cref="StepBlocks"/>, each adding an inserter, and the app hash after the last, from a run without a crash.</summary>
    private (List<Block> Blocks, Hash32 AppHash) ReferenceRun()
    {
        var blocks = new List<Block>();
        var folder = Path.Combine(_dir.FullName, "reference");
        Directory.CreateDirectory(folder);
        using var store = Store(folder);
        using var app = IdosApplication.Open(Options, _chain, store, Secp256k1.Recovery);
        var parent = _chain.GenesisBlock;
        for (var nonce = 1UL; nonce <= 1 + StepBlocks; nonce++)
        {
            var add = Owner.Execute(_chain.ChainId, nonce, "add_inserter_as_owner", [KwilValue.OfUuid(Guid.NewGuid()), KwilValue.OfText($"inserter {nonce}")]);
            parent = Block.Create(parent.Round + 1, parent.Height + 1, new QuorumCertificate(parent.Id, parent.Round, [], []), 0,
                parent.Header.Timestamp + 1_000, [add], app.ExecutedHeight, app.AppHash);
            blocks.Add(parent);
            CommitStep(store, app, [parent]);
        }

        return (blocks, app.AppHash);
    }

    /// <summary>
    /// What a validator does with the blocks a step commits: stores them in one batch, then executes each (the state's
    /// own transaction) and records its app hash (a later step's write); with <paramref name="crashAfterWrites"/>, stops
    /// after that many writes as a killed process would.
    /// </summary>
    private static void CommitStep(SqliteBlockStore store, IdosApplication app, IEnumerable<Block> blocks, int crashAfterWrites = int.MaxValue)
    {
        var committed = blocks.ToList();
        if (crashAfterWrites == 0)
        {
            return;
        }

        using (var batch = store.BeginBatch())
        {
            foreach (var block in committed)
            {
                store.Append(block, new QuorumCertificate(block.Id, block.Round, [], []));
            }

            batch.Commit();
        }

        var writes = 1;
        foreach (var block in committed)
        {
            if (writes++ == crashAfterWrites)
            {
                return;
            }

            var appHash = app.Execute(block);
            if (writes++ == crashAfterWrites)
            {
                return;
            }

            store.RecordAppHash(block.Height, appHash);
        }
    }

    private SqliteBlockStore Store(string folder) => new(Path.Combine(folder, "blocks.db"), _chain.Limits);
}

[Trait("Category", "Unit")]
public sealed class SqliteCommitCrashPointTests : CommitCrashPointTests<SqliteTestFile>;

[Trait("Category", "Postgres")]
public sealed class PostgresCommitCrashPointTests : CommitCrashPointTests<PostgresTestSchema>;
