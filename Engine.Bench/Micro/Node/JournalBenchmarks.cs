using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Persistence;
using IdOS.Akka.Engine.Simulation;
using Microsoft.Data.Sqlite;

namespace IdOS.Akka.Engine.Bench.Micro.Node;

/// <summary>
/// What persisting a vote costs before it may leave: the safety state through the validator's journal settings
/// (Akka.Persistence.Sql on SQLite, WAL, synchronous=FULL), against the same bytes written by one prepared INSERT on
/// a SQLite file with the same settings, and against an actor round trip that persists nothing. The differences say
/// how much of a round's wait is the disk and how much is the way to it; CPU/op, how much of it is work.
/// </summary>
[Config(typeof(CpuTimeConfig))]
public class JournalBenchmarks : IDisposable
{
    private string _directory = null!;
    private ActorSystem _system = null!;
    private IActorRef _journaled = null!;
    private IActorRef _echo = null!;
    private SafetyState _state = null!;
    private byte[] _stateBytes = null!;
    private SqliteConnection _connection = null!;
    private SqliteCommand _insert = null!;
    private long _sequence;

    /// <summary>
    /// The journal's own settings tried against the shipped ones (Akka.Persistence.Sql's reference configuration
    /// documents each): events kept with their tags in a column instead of a tag table, linq2db's queryable insert
    /// instead of its bulk copy, one writer instead of three.
    /// </summary>
    private static readonly Dictionary<string, string> JournalVariants = new(StringComparer.Ordinal)
    {
        ["shipped"] = "",
        ["csv-tags"] = "tag-write-mode = Csv",
        ["queryable-insert"] = "tagtable-asqueryable-insert-mode = parameterized",
        ["one-writer"] = "parallelism = 1",
    };

    [Params("shipped", "csv-tags", "queryable-insert", "one-writer")]
    public string Journal { get; set; } = "shipped";

    [GlobalSetup]
    public void Setup()
    {
        var keys = Enumerable.Range(0, 4).Select(SimWorld.ValidatorKey).ToArray();
        var chain = new ChainParameters("bench", new ValidatorSet([.. keys.Select(k => k.PublicKey)]), 1_700_000_000_000);
        var blockId = chain.GenesisBlock.Id;
        var vote = new Vote(blockId, 1, 0, keys[0].Sign(chain.Domain.Vote(blockId, 1)));
        _state = new SafetyState(1, chain.GenesisQc, vote, null);
        _stateBytes = ConsensusCodec.EncodeSafetyState(_state);

        _directory = Directory.CreateTempSubdirectory("idos-bench-journal-").FullName;
        var config = ConfigurationFactory.ParseString($"akka.persistence.journal.sql {{ {JournalVariants[Journal]} }}")
            .WithFallback(PersistenceConfig.ForDataDirectory(Path.Combine(_directory, "akka")))
            .WithFallback(ConfigurationFactory.ParseString("akka.actor.provider = local\nakka.loglevel = WARNING"))
            .WithFallback(NodeConfig.Defaults)
            // The node's settings bind Akka.Remote's serializers, whose ids live in Akka.Remote's own defaults.
            .WithFallback(ConfigurationFactory.FromResource<global::Akka.Remote.RemoteSettings>("Akka.Remote.Configuration.Remote.conf"));
        _system = ActorSystem.Create("bench", config);
        _journaled = _system.ActorOf(Props.Create(() => new JournaledVoter()), "voter");
        _echo = _system.ActorOf(Props.Create(() => new Echo()), "echo");
        _journaled.Ask<long>(_state, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();

        _connection = new SqliteConnection($"Data Source={Path.Combine(_directory, "raw.db")};Pooling=False");
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL");
        Execute("PRAGMA synchronous=FULL");
        Execute("CREATE TABLE journal (sequence INTEGER PRIMARY KEY, payload BLOB NOT NULL)");
        _insert = _connection.CreateCommand();
        _insert.CommandText = "INSERT INTO journal (sequence, payload) VALUES ($sequence, $payload)";
        _insert.Parameters.Add("$sequence", SqliteType.Integer);
        _insert.Parameters.Add("$payload", SqliteType.Blob);
        _insert.Prepare();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _insert?.Dispose();
        _connection?.Dispose();
        _system?.Terminate().Wait(TimeSpan.FromSeconds(10));
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    [Benchmark(Description = "safety state through the journal (Akka.Persistence.Sql)")]
    public Task<long> PersistThroughJournal() => _journaled.Ask<long>(_state, TimeSpan.FromSeconds(30));

    [Benchmark(Description = "actor round trip, nothing persisted")]
    public Task<long> AskOnly() => _echo.Ask<long>(_state, TimeSpan.FromSeconds(30));

    [Benchmark(Description = "one prepared INSERT, WAL, synchronous=FULL")]
    public int InsertDirectly()
    {
        _insert.Parameters[0].Value = ++_sequence;
        _insert.Parameters[1].Value = _stateBytes;
        return _insert.ExecuteNonQuery();
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class JournaledVoter : ReceivePersistentActor
    {
        public JournaledVoter()
        {
            Command<SafetyState>(state => Persist(new SafetyStateRecorded(state), _ => Sender.Tell(LastSequenceNr)));
            Recover<SafetyStateRecorded>(_ => { });
        }

        public override string PersistenceId => "bench-voter";
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => Receive<SafetyState>(state => Sender.Tell(state.LastVotedRound));
    }
}
