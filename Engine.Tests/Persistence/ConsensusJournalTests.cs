using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Persistence;
using IdOS.Akka.Engine.Tests.Consensus;
using Microsoft.Data.Sqlite;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Persistence;

/// <summary>
/// The journal settings a validator will run with: Akka.Persistence.Sql on its own SQLite file in WAL mode, events
/// written by our codec (never a default serializer), and everything back after the ActorSystem restarts.
/// </summary>
[Trait("Category", "Unit")]
public sealed class ConsensusJournalTests : IDisposable
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(20);
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-journal-");
    private readonly TestChain _t = new();

    public void Dispose() => _dir.Delete(recursive: true);

    private Config NodeConfig => PersistenceConfig.ForDataDirectory(_dir.FullName)
        .WithFallback(ConfigurationFactory.ParseString(TestFiles.NodeConf));

    private string DbPath => Path.Combine(_dir.FullName, PersistenceConfig.FileName);

    [Fact]
    public async Task Safety_states_and_kept_blocks_survive_a_restart_and_are_stored_by_our_serializer()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(1)]);
        var first = new SafetyState(1, _t.Chain.GenesisQc, _t.Vote(0, b1.Id, 1), null);
        var second = first with { LastVotedRound = 2, LastTimeout = _t.Timeout(0, 2, _t.Chain.GenesisQc) };
        using (var system = ActorSystem.Create("idos", NodeConfig))
        {
            var voter = system.ActorOf(Props.Create<Recorder>(), "voter");
            Assert.Equal("persisted", await voter.Ask<string>(first, AskTimeout));
            Assert.Equal("persisted", await voter.Ask<string>(b1, AskTimeout));
            Assert.Equal("persisted", await voter.Ask<string>(second, AskTimeout));
            await system.Terminate();
        }

        using (var restarted = ActorSystem.Create("idos", NodeConfig))
        {
            var voter = restarted.ActorOf(Props.Create<Recorder>(), "voter");
            var (state, kept) = await voter.Ask<(SafetyState?, List<Block>)>("report", AskTimeout);

            Assert.Equal(ConsensusCodec.EncodeSafetyState(second), ConsensusCodec.EncodeSafetyState(state!));
            Assert.Equal([b1.Id], kept.Select(b => b.Id));
            await restarted.Terminate();
        }

        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        Assert.Equal([(WireSerializer.Id, "BK"), (WireSerializer.Id, "SS")], Rows(connection, "SELECT DISTINCT identifier, manifest FROM journal ORDER BY manifest"));
        Assert.Equal("wal", Scalar(connection, "PRAGMA journal_mode"));
        Assert.Equal(2L, Scalar(connection, "PRAGMA synchronous"));
    }

    private static List<(int, string)> Rows(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<(int, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt32(0), reader.GetString(1)));
        }

        return rows;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>A stand-in for the voter: journals what it is told and reports what it recovered.</summary>
    private sealed class Recorder : ReceivePersistentActor
    {
        private readonly List<Block> _kept = [];
        private SafetyState? _state;

        public Recorder()
        {
            Recover<SafetyStateRecorded>(e => _state = e.State);
            Recover<BlockKept>(e => _kept.Add(e.Block));
            Command<SafetyState>(state => Persist(new SafetyStateRecorded(state), e =>
            {
                _state = e.State;
                Sender.Tell("persisted");
            }));
            Command<Block>(block => Persist(new BlockKept(block), e =>
            {
                _kept.Add(e.Block);
                Sender.Tell("persisted");
            }));
            Command<string>(_ => Sender.Tell((_state, _kept.ToList())));
        }

        public override string PersistenceId => "voter-0";
    }
}
