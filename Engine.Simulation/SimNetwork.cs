using IdOS.Akka.Engine.Consensus;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// The simulated network between instances: before GST flaky links, partitions (a random split drops; a round's
/// split holds messages until it ends), loss and duplication, and a delay drawn per copy; after GST no loss and a
/// bounded delay. It addresses instances, not identities, and draws everything from the world's generator.
/// </summary>
internal sealed class SimNetwork
{
    private readonly WorldConfig _config;
    private readonly SimRandom _rng;
    private readonly IReadOnlyList<SimInstance> _instances;
    private readonly FlakyLinks? _flakyLinks;
    private readonly Func<long> _now;
    private readonly Action<long, SimEvent> _schedule;
    private readonly Dictionary<long, int[]> _roundPartitions = [];
    private readonly Dictionary<long, long> _roundSplitEnds = [];
    private int[] _partition;

    /// <summary>Draws the split of every partitioned round now, as the world is built.</summary>
    public SimNetwork(WorldConfig config, SimRandom rng, IReadOnlyList<SimInstance> instances, FlakyLinks? flakyLinks, Func<long> now,
        Action<long, SimEvent> schedule)
    {
        _config = config;
        _rng = rng;
        _instances = instances;
        _flakyLinks = flakyLinks;
        _now = now;
        _schedule = schedule;
        _partition = new int[instances.Count];
        if (config.Partitions == PartitionMode.PerRound)
        {
            for (var round = 1; round <= config.PartitionedRounds; round++)
            {
                _roundPartitions[round] = DrawPartition(allowWhole: false);
            }
        }
    }

    /// <summary>Set at GST: from then on nothing is lost and delays are bounded.</summary>
    public bool Healed { get; private set; }

    public void Heal() => Healed = true;

    /// <summary>A new random split (random partitions only).</summary>
    public void Repartition() => _partition = DrawPartition(allowWhole: true);

    public void SendToAll(SimInstance from, ConsensusMessage message, IEnumerable<SimInstance> recipients)
    {
        var bytes = ConsensusCodec.Encode(message);
        var round = RoundOf(message);
        foreach (var to in recipients)
        {
            Send(from.Id, to.Id, bytes, round);
        }
    }

    /// <summary>The round a message belongs to, for per-round splits; block sync belongs to none and is never split.</summary>
    private static long RoundOf(ConsensusMessage message) => message switch
    {
        Proposal p => p.Round,
        Vote v => v.Round,
        TimeoutVote t => t.Round,
        _ => 0,
    };

    /// <summary>
    /// The network before GST: flaky links and partitions (a random split drops; a round's split holds messages until
    /// it ends), loss and duplication; then a delay drawn per copy.
    /// </summary>
    public void Send(int from, int to, byte[] bytes, long round, long extraDelayMs = 0)
    {
        if (from == to)
        {
            _schedule(_now() + 1, new SimEvent(EventKind.Deliver, to, from, bytes));
            return;
        }

        if (!Healed && _flakyLinks?.Drops(from, to, _now()) == true)
        {
            return;
        }

        var notBefore = _now();
        var copies = 1;
        if (!Healed)
        {
            switch (_config.Partitions)
            {
                case PartitionMode.Random when _partition[from] != _partition[to]:
                    return;
                case PartitionMode.PerRound when _roundPartitions.TryGetValue(round, out var groups) && groups[from] != groups[to]:
                    notBefore = Math.Max(notBefore, RoundSplitEnd(round));
                    break;
                default:
                    break;
            }

            if (_rng.Chance(_config.DropRate))
            {
                return;
            }

            if (_rng.Chance(_config.DuplicateRate))
            {
                copies = 2;
            }
        }

        for (var copy = 0; copy < copies; copy++)
        {
            var tail = _rng.Exponential(_config.DelayMeanMs);
            var cap = Healed ? 4 * _config.DelayMeanMs : 20 * _config.DelayMeanMs;
            var delay = _config.DelayMinMs + (long)Math.Min(tail, cap) + extraDelayMs;
            _schedule(notBefore + Math.Max(1, delay), new SimEvent(EventKind.Deliver, to, from, bytes));
        }
    }

    /// <summary>
    /// A round's split lasts from its first message for a random while of about one round timer; what crossed it is
    /// held until then, as a healed link delivers what it buffered. Were it dropped instead, a split with no side
    /// holding a quorum of timeouts would never let its round end; held, a twin's proposal reaches the other side
    /// late, which is what tests that a validator votes at most once per round.
    /// </summary>
    private long RoundSplitEnd(long round)
    {
        if (!_roundSplitEnds.TryGetValue(round, out var end))
        {
            end = _now() + _rng.Between(_config.Pacemaker.BaseTimeoutMs / 2, 3 * _config.Pacemaker.BaseTimeoutMs);
            _roundSplitEnds[round] = end;
        }

        return end;
    }

    /// <summary>Groups for every instance: one cut off, or two or three random groups; twins always apart.</summary>
    private int[] DrawPartition(bool allowWhole)
    {
        var groups = new int[_instances.Count];
        var shape = _rng.Next(allowWhole ? 4 : 3);
        switch (shape)
        {
            case 0:
                groups[_rng.Next(groups.Length)] = 1;
                break;
            case 1:
            case 2:
                var count = shape + 1;
                for (var i = 0; i < groups.Length; i++)
                {
                    groups[i] = _rng.Next(count);
                }

                break;
            default:
                break;
        }

        foreach (var validatorInstances in _instances.GroupBy(i => i.Validator).Where(g => g.Count() > 1))
        {
            var pair = validatorInstances.ToList();
            if (groups[pair[0].Id] == groups[pair[1].Id])
            {
                groups[pair[1].Id] = groups[pair[0].Id] == 0 ? 1 : 0;
            }
        }

        return groups;
    }
}
