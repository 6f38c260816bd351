using Akka.Actor;
using Akka.Event;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Snapshots;
using Microsoft.Data.Sqlite;

namespace IdOS.Akka.Engine.Actors;

/// <summary>How long block bodies are kept, and how often pruning and WAL truncation run.</summary>
public sealed record RetentionSettings(long Blocks, TimeSpan Interval)
{
    /// <summary>Below this a validator could prune a block its peers are still syncing or its replica still extends.</summary>
    public const long MinimumBlocks = 16;
}

/// <summary>
/// Makes deletion reach the disk: prunes committed block bodies past the retention window, erases state snapshots
/// taken before it, and checkpoints and truncates the SQLite WAL files (blocks, state, consensus journal), on connections and a thread of its own so that
/// consensus never waits for it. A file that is busy this time is done next time.
/// </summary>
public sealed class RetentionActor : ReceiveActor, IWithTimers
{
    public const string Name = "retention";

    /// <summary>Bounds one round of pruning, so that the block store's writer is never held for long.</summary>
    private const int BlocksPerBatch = 256;

    private const int BatchesPerTick = 16;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly SqliteBlockStore _blocks;
    private readonly StateDatabase? _state;
    private readonly string _journalPath;
    private readonly RetentionSettings _settings;
    private readonly SnapshotDirectory? _snapshots;

    public RetentionActor(SqliteBlockStore blocks, StateDatabase? state, string journalPath, RetentionSettings settings, SnapshotDirectory? snapshots)
    {
        _snapshots = snapshots;
        _blocks = blocks;
        _state = state;
        _journalPath = journalPath;
        _settings = settings;
        Receive<Tick>(_ => RunOnce());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(SqliteBlockStore blocks, StateDatabase? state, string journalPath, RetentionSettings settings, SnapshotDirectory? snapshots = null) =>
        global::Akka.Actor.Props.Create(() => new RetentionActor(blocks, state, journalPath, settings, snapshots)).WithDispatcher("idos.blocking-io-dispatcher");

    protected override void PreStart() => Timers.StartPeriodicTimer("retention", Tick.Instance, _settings.Interval);

    protected override void PostStop()
    {
        _blocks.Dispose();
        _state?.Dispose();
    }

    private void RunOnce()
    {
        var target = _blocks.StoredHeight - _settings.Blocks;
        var pruned = 0;
        for (var batch = 0; target > 0 && batch < BatchesPerTick; batch++)
        {
            var count = _blocks.Prune(target, BlocksPerBatch);
            pruned += count;
            if (count < BlocksPerBatch)
            {
                break;
            }
        }

        if (pruned > 0)
        {
            _log.Info("Pruned the bodies of {0} blocks; bodies are kept above height {1}", pruned, _blocks.PrunedHeight);
        }

        if (target > 0 && _snapshots?.EraseBelow(target) is > 0 and var erased)
        {
            _log.Info("Erased {0} state snapshot(s) older than the retention window (below height {1})", erased, target);
        }

        var busy = new List<string>();
        if (!_blocks.CheckpointAndTruncate())
        {
            busy.Add("the block store");
        }

        if (_state is not null && !_state.CheckpointAndTruncate())
        {
            busy.Add("the idOS state");
        }

        if (!CheckpointJournal())
        {
            busy.Add("the consensus journal");
        }

        if (busy.Count > 0)
        {
            _log.Debug("WAL of {0} was in use; it is truncated on a later round", string.Join(", ", busy));
        }
    }

    /// <summary>The journal belongs to Akka.Persistence; a short-lived connection of our own checkpoints it.</summary>
    private bool CheckpointJournal()
    {
        if (!File.Exists(_journalPath))
        {
            return true;
        }

        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _journalPath, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        using var reader = command.ExecuteReader();
        return reader.Read() && reader.GetInt64(0) == 0;
    }

    private sealed class Tick
    {
        public static readonly Tick Instance = new();
    }
}
