using IdOS.Akka.Engine.Consensus;

namespace IdOS.Akka.Engine.Simulation;

public enum PartitionMode
{
    None,

    /// <summary>Random splits (one node cut off, two or three groups) that change every few seconds until GST.</summary>
    Random,

    /// <summary>Twins: each round up to a limit has its own split, applied to the messages of that round; twins never share a side.</summary>
    PerRound,
}

public enum NodeRole
{
    Correct,

    /// <summary>Leads with two different proposals to two sides of the network and votes for both.</summary>
    EquivocatingLeader,

    /// <summary>Double votes, votes for stale rounds, sends conflicting timeouts, forged and corrupted messages.</summary>
    RogueVoter,

    /// <summary>One of two instances running correct code with the same key.</summary>
    Twin,

    /// <summary>Never runs: a validator that is down for good, so the live ones are a bare quorum.</summary>
    Silent,
}

/// <summary>Everything one simulated world is made of; drawn from the scenario and the seed.</summary>
public sealed record WorldConfig
{
    public required int Validators { get; init; }

    /// <summary>The role of each validator identity (index = validator); twinned identities get two instances.</summary>
    public required NodeRole[] Roles { get; init; }

    public double DropRate { get; init; }

    public double DuplicateRate { get; init; }

    public long DelayMinMs { get; init; } = 1;

    public double DelayMeanMs { get; init; } = 5;

    public PartitionMode Partitions { get; init; }

    /// <summary>For <see cref="PartitionMode.PerRound"/>: the last round with a split.</summary>
    public long PartitionedRounds { get; init; }

    /// <summary>Mean time between crashes of correct instances before GST; zero for none.</summary>
    public long CrashEveryMs { get; init; }

    public long MaxDowntimeMs { get; init; } = 3_000;

    /// <summary>From here on (for time-based faults) the network is reliable and every instance is up.</summary>
    public long GstMs { get; init; }

    public long ClockSkewMaxMs { get; init; } = 50;

    /// <summary>This many correct validators (chosen by the seed) have clocks wrong by 2.5 to 10 s, either way.</summary>
    public int BadClocks { get; init; }

    public long TransactionIntervalMs { get; init; } = 40;

    /// <summary>How long each instance's executor takes for a committed block, drawn anew for each block.</summary>
    public long ExecutionMinMs { get; init; } = 1;

    public long ExecutionMaxMs { get; init; } = 10;

    /// <summary>The replicas' bound on how far execution may lag before a leader proposes blocks without transactions.</summary>
    public int MaxExecutionLagBlocks { get; init; } = ReplicaOptions.Default.MaxExecutionLagBlocks;

    public PacemakerPolicy Pacemaker { get; init; } = new(500, 8_000);

    public ProtocolMutation Mutation { get; init; }

    /// <summary>Leaders are drawn from committed history (leader reputation) instead of rotating; a leader cycle overrides it.</summary>
    public bool LeaderReputation { get; init; }

    /// <summary>Genesis gets a leader cycle in which the faulty identities lead runs of rounds, instead of round-robin.</summary>
    public bool FaultyLeaderRuns { get; init; }

    /// <summary>How long after GST the world runs before missing liveness is reported.</summary>
    public long MaxRunAfterGstMs { get; init; } = 180_000;

    /// <summary>New blocks each correct validator must commit after GST before the world ends.</summary>
    public int CommitsAfterGst { get; init; } = 3;

    /// <summary>One correct validator (drawn by the seed) is down this long, then up <see cref="FlapUpMs"/>, and again, for the whole run.</summary>
    public long FlapDownMs { get; init; }

    public long FlapUpMs { get; init; }

    /// <summary>Until GST one correct validator's outbound links each go down for up to this long, independently, again and again; zero for none.</summary>
    public long FlakyLinkDownMs { get; init; }

    public long FlakyLinkUpMs { get; init; }

    /// <summary>From this height on, the chain's rounds and time are measured against the two bounds below; 0: not measured.</summary>
    public long MeasureFromHeight { get; init; }

    public double MinBlocksPerRound { get; init; }

    public double MaxLostTimeShare { get; init; } = 1;

    /// <summary>For worlds whose validators go down again and again: the rounds each going down may cost at most.</summary>
    public double MaxSkippedRoundsPerCrash { get; init; } = double.PositiveInfinity;

    /// <summary>The validator set changes, epoch by epoch, as <see cref="SimEpochs"/> plans it.</summary>
    public bool EpochChanges { get; init; }
}

/// <summary>A named family of worlds; each seed draws one member of the family.</summary>
public sealed record Scenario(string Name, string Description, Func<int, SimRandom, ProtocolMutation, WorldConfig> Build)
{
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("baseline", "no faults", (n, rng, mutation) => Config(n, mutation, Roles(n, rng)) with { GstMs = 0 }),
        new("lossy", "loss 0-30%, duplication 0-50%, delay 0-30 ms + mean 30-100 ms until GST", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng)) with
            {
                DropRate = rng.Between(0.0, 0.3),
                DuplicateRate = rng.Between(0.0, 0.5),
                DelayMinMs = rng.Between(0, 30),
                DelayMeanMs = rng.Between(30.0, 100.0),
                GstMs = rng.Between(5_000, 15_000),
            }),
        new("lossy-quorum", "f validators down for good; loss 0-30%, delay mean 5-60 ms until GST", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng, NodeRole.Silent)) with
            {
                DropRate = rng.Between(0.0, 0.3),
                DelayMeanMs = rng.Between(5.0, 60.0),
                GstMs = rng.Between(3_000, 12_000),
            }),
        new("partition", "random splits changing every 0.5-4 s until GST", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng)) with { Partitions = PartitionMode.Random, GstMs = rng.Between(8_000, 20_000) }),
        new("crash", "correct validators crash at any step and restart from their own storage", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng)) with
            {
                CrashEveryMs = rng.Between(300, 1_500),
                MaxDowntimeMs = rng.Between(500, 4_000),
                DelayMeanMs = rng.Between(5.0, 40.0),
                GstMs = rng.Between(8_000, 20_000),
                CommitsAfterGst = 20,
            }),
        new("equivocation", "f leaders propose two blocks per round to two sides and vote for both", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng, NodeRole.EquivocatingLeader)) with
            {
                FaultyLeaderRuns = rng.Chance(0.5),
                DropRate = rng.Between(0.0, 0.1),
                DelayMeanMs = rng.Between(5.0, 60.0),
                Partitions = rng.Chance(0.5) ? PartitionMode.Random : PartitionMode.None,
                GstMs = rng.Between(5_000, 15_000),
                CommitsAfterGst = 20,
            }),
        new("byzantine-voters", "f validators double vote, vote in stale rounds, send conflicting timeouts and forged bytes", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng, NodeRole.RogueVoter)) with
            {
                DropRate = rng.Between(0.0, 0.1),
                DelayMeanMs = rng.Between(5.0, 60.0),
                GstMs = rng.Between(5_000, 15_000),
                CommitsAfterGst = 20,
            }),
        new("twins", "f identities run as two instances each, split apart round by round, leading their rounds", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng, NodeRole.Twin)) with
            {
                FaultyLeaderRuns = true,
                Partitions = PartitionMode.PerRound,
                PartitionedRounds = rng.Between(6, 16),
                DelayMeanMs = rng.Between(2.0, 30.0),
            }),
        new("clock-skew", "f correct validators' clocks are off by 2.5-10 s, beyond the allowed drift, either way", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng)) with
            {
                BadClocks = (n - 1) / 3,
                DropRate = rng.Between(0.0, 0.1),
                DelayMeanMs = rng.Between(5.0, 40.0),
                GstMs = rng.Between(3_000, 10_000),
            }),
        new("idle", "leaders wait up to 1 s on an idle chain; transactions every 0.5-5 s, loss, crashes and f equivocating leaders", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng, NodeRole.EquivocatingLeader)) with
            {
                Pacemaker = new PacemakerPolicy(500, 8_000) { IdleIntervalMs = 1_000 },
                TransactionIntervalMs = rng.Between(500, 5_000),
                DropRate = rng.Between(0.0, 0.1),
                DelayMeanMs = rng.Between(5.0, 40.0),
                CrashEveryMs = rng.Chance(0.5) ? rng.Between(1_000, 4_000) : 0,
                GstMs = rng.Between(5_000, 15_000),
            }),
        new("slow-execution", "executors take 20-300 ms a block while consensus orders on, lag bounded at 1-4 blocks; loss and crashes", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng)) with
            {
                ExecutionMinMs = 20,
                ExecutionMaxMs = rng.Between(50, 300),
                MaxExecutionLagBlocks = (int)rng.Between(1, 4),
                DropRate = rng.Between(0.0, 0.1),
                DelayMeanMs = rng.Between(5.0, 40.0),
                CrashEveryMs = rng.Chance(0.5) ? rng.Between(1_000, 4_000) : 0,
                GstMs = rng.Between(5_000, 15_000),
            }),
        new("dead-one", "one validator down for good, leaders by reputation; a bound on rounds and time lost once it is left out", (n, rng, mutation) =>
            DeadValidators(Config(n, mutation, OneDown(n, rng)), n)),
        new("dead-f", "f validators down for good, leaders by reputation; a bound on rounds and time lost once they are left out", (n, rng, mutation) =>
            DeadValidators(Config(n, mutation, Roles(n, rng, NodeRole.Silent)), n)),
        new("flapping", "one validator down 1-4 s and up 2-6 s, again and again, leaders by reputation; a bound on rounds lost per crash", (n, rng, mutation) =>
            DeadValidators(Config(n, mutation, Roles(n, rng)), n) with
            {
                FlapDownMs = rng.Between(1_000, 4_000),
                FlapUpMs = rng.Between(2_000, 6_000),
                CommitsAfterGst = 1_500,
                MinBlocksPerRound = 0,
                MaxLostTimeShare = 1,

                // It keeps leading until the window no longer holds its votes, about (4/3 x window + exclude rounds) / 4
                // rounds, plus one lost to its first round as the next leader, before anyone suspects it: 5 or so. While
                // no block commits the window stands still, so a run of rounds it leads costs more.
                MaxSkippedRoundsPerCrash = 12,
            }),
        new("epoch-change", "three validator-set changes, decided at heights 20, 50 and 80, reorder the set (and with five or more validators the last leaves one out); loss 0-10%, delay mean 5-40 ms and crashes until GST", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng)) with
            {
                EpochChanges = true,
                DropRate = rng.Between(0.0, 0.1),
                DelayMeanMs = rng.Between(5.0, 40.0),
                CrashEveryMs = rng.Chance(0.5) ? rng.Between(1_000, 4_000) : 0,
                GstMs = rng.Between(1_000, 8_000),

                // Past the last change, wherever GST falls.
                CommitsAfterGst = 120,
            }),
        new("long-outage", "one validator down 5-10 s at a time, hundreds of rounds, and up 3-6 s, again and again: it catches up by height each time", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng)) with
            {
                FlapDownMs = rng.Between(5_000, 10_000),
                FlapUpMs = rng.Between(3_000, 6_000),
                DelayMeanMs = rng.Between(2.0, 10.0),
                GstMs = 0,

                // Enough that the down validator must catch up after an outage, and again, to commit them all.
                CommitsAfterGst = 1_000,
            }),
        new("flaky-links", "one validator down for good and another's outbound links each failing and recovering on their own (down up to 0.4-1.5 s, up up to 1-4 s at a time) for 10-20 s; certificates reach part of the network", (n, rng, mutation) =>
            Config(n, mutation, OneDown(n, rng)) with
            {
                FlakyLinkDownMs = rng.Between(400, 1_500),
                FlakyLinkUpMs = rng.Between(1_000, 4_000),
                GstMs = rng.Between(10_000, 20_000),
                CommitsAfterGst = 100,
            }),
        new("chaos", "loss, duplication, splits, crashes and f mixed Byzantine validators at once", (n, rng, mutation) =>
            Config(n, mutation, Roles(n, rng, NodeRole.EquivocatingLeader, NodeRole.RogueVoter, NodeRole.Twin)) with
            {
                DropRate = rng.Between(0.0, 0.2),
                DuplicateRate = rng.Between(0.0, 0.3),
                DelayMeanMs = rng.Between(5.0, 80.0),
                Partitions = PartitionMode.Random,
                CrashEveryMs = rng.Between(500, 3_000),
                GstMs = rng.Between(8_000, 20_000),
                CommitsAfterGst = 20,
            }),
    ];

    public static Scenario? Find(string name) => All.FirstOrDefault(s => s.Name == name);

    /// <summary>
    /// The rounds after GST within which every correct validator must have committed a new block. Three consecutive
    /// correct leaders commit a block, so the bound is the longest wait in the leader cycle for such a run, plus
    /// rounds for validators to resynchronise after the heal (timeouts carry the high QC; f + 1 of them pull a
    /// lagging validator forward) and to fetch what they missed.
    /// </summary>
    public static int LivenessBound(int n, IReadOnlyList<int>? schedule, NodeRole[] roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var cycle = schedule ?? [.. Enumerable.Range(0, n)];
        bool Correct(int offset) => roles[cycle[offset % cycle.Count]] == NodeRole.Correct;
        var longestWait = 0;
        for (var start = 0; start < cycle.Count; start++)
        {
            var wait = 0;
            while (wait < 3 * cycle.Count && !(Correct(start + wait) && Correct(start + wait + 1) && Correct(start + wait + 2)))
            {
                wait++;
            }

            longestWait = Math.Max(longestWait, wait);
        }

        return longestWait + (2 * n) + 6;
    }

    /// <summary>
    /// A leader cycle in the manner of the Twins generator: half the slots go to the faulty identities, so they lead
    /// runs of consecutive rounds, and the cycle always holds three correct leaders in a row so that it stays live.
    /// </summary>
    public static int[] DrawLeaderSchedule(int n, NodeRole[] roles, SimRandom rng)
    {
        ArgumentNullException.ThrowIfNull(roles);
        ArgumentNullException.ThrowIfNull(rng);
        var faulty = Enumerable.Range(0, n).Where(i => roles[i] != NodeRole.Correct).ToList();
        var correct = Enumerable.Range(0, n).Where(i => roles[i] == NodeRole.Correct).ToList();
        var schedule = new List<int>();
        for (var i = 0; i < 3 * n; i++)
        {
            schedule.Add(faulty.Count > 0 && rng.Chance(0.5) ? rng.Pick(faulty) : rng.Next(n));
        }

        schedule.AddRange([rng.Pick(correct), rng.Pick(correct), rng.Pick(correct)]);
        return [.. schedule];
    }

    /// <summary>
    /// A reliable network, leaders by reputation, and a long run measured from the height where the down validators
    /// are surely out of every leader window: from there a down leader comes up about once in thirty thousand rounds
    /// and costs one round timer, so the bounds below leave room for a few. A healthy round is a few message delays
    /// (about 12 ms here) and a timer 500 ms: 10% of the time is about one timer in 400 rounds.
    /// </summary>
    private static WorldConfig DeadValidators(WorldConfig config, int n)
    {
        var reputation = LeaderReputationPolicy.For(n);
        return config with
        {
            LeaderReputation = true,
            GstMs = 0,
            CommitsAfterGst = 1_000,
            MeasureFromHeight = 4 * (reputation.WindowBlocks + reputation.ExcludeRounds),
            MinBlocksPerRound = 0.99,
            MaxLostTimeShare = 0.1,
        };
    }

    private static NodeRole[] OneDown(int n, SimRandom rng)
    {
        var roles = new NodeRole[n];
        roles[rng.Next(n)] = NodeRole.Silent;
        return roles;
    }

    private static WorldConfig Config(int n, ProtocolMutation mutation, NodeRole[] roles) => new()
    {
        LeaderReputation = true,
        Validators = n,
        Roles = roles,
        Mutation = mutation,
    };

    /// <summary>f validators (chosen by the seed) take the given faulty roles in turn; the rest are correct.</summary>
    private static NodeRole[] Roles(int n, SimRandom rng, params NodeRole[] faulty)
    {
        var roles = new NodeRole[n];
        if (faulty.Length == 0)
        {
            return roles;
        }

        var indices = Enumerable.Range(0, n).ToList();
        rng.Shuffle(indices);
        var f = (n - 1) / 3;
        var first = rng.Next(faulty.Length);
        for (var i = 0; i < f; i++)
        {
            roles[indices[i]] = faulty[(first + i) % faulty.Length];
        }

        return roles;
    }
}
