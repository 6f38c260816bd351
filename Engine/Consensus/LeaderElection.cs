using System.Buffers.Binary;
using System.Security.Cryptography;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// How leaders are chosen from committed history; genesis fixes it like the keys, since every validator must compute
/// the same leader for a round. <see cref="Off"/> keeps plain rotation.
/// </summary>
/// <param name="WindowBlocks">
/// Committed blocks whose proposers and QC signers count as active. Short, because a crashed validator keeps its
/// weight until the window no longer holds its votes, and each round it leads meanwhile ends in a timeout; long
/// enough that a live validator leads or lands in a QC within it.
/// </param>
/// <param name="ExcludeRounds">
/// The window ends at the last committed block at least this many rounds before the round being led, so that every
/// validator has committed that far by the time it needs the answer (a commit trails its round by two in the
/// common case, a few more after a timeout).
/// </param>
public sealed record LeaderReputationPolicy(int WindowBlocks, int ExcludeRounds)
{
    public const int MaxWindowBlocks = 10_000;
    public const int MinExcludeRounds = 3;
    public const int MaxExcludeRounds = 1_000;

    /// <summary>
    /// Weights of validators that did and did not take part in the window. A round a crashed validator leads costs a
    /// round timer, about a hundred healthy rounds, so it must come up far less often than that: here once in about
    /// 3 x 10,000 rounds with one of four down, well under 1% of the time. A validator that takes part but whose round
    /// in the window produced no block (its proposals refused, say for a clock ahead, or lost) weighs in between: it
    /// leads rarely until the window has moved past the failure, and still far more often than one that is down.
    /// </summary>
    public const int ActiveWeight = 10_000;
    public const int FailedWeight = 100;
    public const int InactiveWeight = 1;

    /// <summary>
    /// A block names the leaders of at most this many rounds before it: after a long stall the last leaders are the
    /// ones that failed most recently, and computing thousands of leaders for one block would cost every voter.
    /// </summary>
    public const int MaxFailedRounds = 16;

    public static LeaderReputationPolicy Off { get; } = new(0, 0);

    public bool IsOn => WindowBlocks > 0;

    /// <summary>Two blocks per validator, at least eight, ending six rounds back.</summary>
    public static LeaderReputationPolicy For(int validators) => new(Math.Max(8, 2 * validators), 6);

    /// <summary>Null when the policy is usable: off, or a window and a distance within their bounds.</summary>
    public string? Check()
    {
        if (!IsOn)
        {
            return WindowBlocks == 0 && ExcludeRounds == 0 ? null : "leader reputation that is off has window 0 and exclude rounds 0";
        }

        if (WindowBlocks > MaxWindowBlocks)
        {
            return $"leader reputation window of {WindowBlocks} blocks is above {MaxWindowBlocks}";
        }

        return ExcludeRounds is < MinExcludeRounds or > MaxExcludeRounds
            ? $"leader reputation exclude rounds {ExcludeRounds} is outside {MinExcludeRounds} to {MaxExcludeRounds}"
            : null;
    }
}

/// <summary>What a replica's host may read of leader election: a round's leader and the current weights.</summary>
public interface ILeaderView
{
    int LeaderOf(long round);

    /// <summary>Each validator's weight in the draw; null while reputation is off or the chain is shorter than the window.</summary>
    long[]? Weights();
}

/// <summary>
/// Leader(r) from the committed chain (leader reputation). The anchor of round r is the last committed block at least
/// <see cref="LeaderReputationPolicy.ExcludeRounds"/> rounds before r; over the window of committed blocks ending at
/// it, validators that proposed a block or signed a QC weigh <see cref="LeaderReputationPolicy.ActiveWeight"/>, less
/// (<see cref="LeaderReputationPolicy.FailedWeight"/>) when a block of the window names them as failed proposers and
/// at most f validators are so named, and the others <see cref="LeaderReputationPolicy.InactiveWeight"/>; the leader
/// is drawn by those weights with a seed of the round and the anchor's id. While the chain is shorter than the window, and when the policy is off, leaders
/// rotate in genesis order. Only liveness depends on it: a validator that has not committed up to the anchor yet may
/// compute another leader than the others, which is why it then takes any of the <see cref="PlausibleLeaders"/>.
/// </summary>
public sealed class LeaderElection : ILeaderView
{
    /// <summary>How many committed blocks behind its own anchor another validator's may be and still be accepted.</summary>
    private const int PlausibleCommittedAnchors = 3;

    private readonly ValidatorSet _validators;
    private readonly LeaderReputationPolicy _policy;
    private readonly int _capacity;

    // The newest committed blocks, oldest first: enough for the anchor and window of any round this validator leads
    // or votes in, which are never older than its committed root.
    private readonly List<Entry> _recent = [];
    private readonly Dictionary<long, int> _memo = [];

    public LeaderElection(ValidatorSet validators, LeaderReputationPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(validators);
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Check() is { } problem)
        {
            throw new ArgumentException(problem, nameof(policy));
        }

        _validators = validators;
        _policy = policy;
        // The anchors PlausibleLeaders tries reach PlausibleCommittedAnchors blocks below a round's own, each with a
        // full window behind it.
        _capacity = policy.WindowBlocks + policy.ExcludeRounds + 2 + PlausibleCommittedAnchors;
    }

    /// <summary>A fixed leader cycle (the simulator's Twins worlds) overrides reputation.</summary>
    public bool UsesReputation => _policy.IsOn && _validators.LeaderSchedule is null;

    /// <summary>How many of the newest committed blocks <see cref="Record"/> must have seen for the answers to be exact.</summary>
    public int HistoryBlocks => UsesReputation ? _capacity : 0;

    /// <summary>Committed blocks in height order, each once; older ones than the last <see cref="HistoryBlocks"/> need not be.</summary>
    public void Record(Block committed)
    {
        ArgumentNullException.ThrowIfNull(committed);
        if (!UsesReputation || (_recent.Count > 0 && committed.Height <= _recent[^1].Height))
        {
            return;
        }

        _recent.Add(EntryOf(committed));
        if (_recent.Count > _capacity)
        {
            _recent.RemoveRange(0, _recent.Count - _capacity);
        }

        // A new commit moves the anchor of rounds at least ExcludeRounds after it; answers for earlier ones stand.
        foreach (var round in _memo.Keys.Where(r => r - _policy.ExcludeRounds >= committed.Round).ToList())
        {
            _memo.Remove(round);
        }
    }

    /// <summary>
    /// The anchor of <paramref name="round"/> is final here: a block committed after it is already known, so no later
    /// commit can change the answer. When it is not, the answer is this validator's best guess, which the others share
    /// as long as they have committed as far (as they all have after a stall, once timeouts spread the high QC).
    /// </summary>
    public bool IsSettled(long round) => !UsesReputation || (_recent.Count > 0 && _recent[^1].Round > round - _policy.ExcludeRounds);

    public int LeaderOf(long round)
    {
        if (!UsesReputation)
        {
            return _validators.LeaderOf(round);
        }

        if (_memo.TryGetValue(round, out var memo))
        {
            return memo;
        }

        var leader = Compute(round);
        if (_memo.Count >= 64)
        {
            _memo.Clear();
        }

        _memo[round] = leader;
        return leader;
    }

    /// <summary>
    /// Whether <paramref name="validator"/> proposed or signed a QC in the window of the newest committed blocks: one
    /// that did not is likely down, and a vote for the round before it leads also goes to everyone.
    /// </summary>
    public bool IsActive(int validator)
    {
        var (start, end) = Window(_recent, _recent.Count - 1);
        return start < 0 || IsActiveIn(_recent, validator, start, end);
    }

    /// <summary>
    /// Every leader <paramref name="round"/> could have for a validator whose committed chain differs a little from
    /// this one's: anchors among the last few committed blocks before the round's own anchor, and among the
    /// uncommitted blocks of <paramref name="uncommittedPath"/> (certified, so another validator may have committed
    /// them). A validator that is not settled accepts a proposal from any of them: it may be the one behind, and who
    /// leads never decides safety.
    /// </summary>
    public HashSet<int> PlausibleLeaders(long round, IReadOnlyList<Block> uncommittedPath)
    {
        ArgumentNullException.ThrowIfNull(uncommittedPath);
        var leaders = new HashSet<int> { LeaderOf(round) };
        if (!UsesReputation)
        {
            return leaders;
        }

        var entries = WithUncommitted(uncommittedPath);
        var ownAnchor = _recent.FindLastIndex(e => e.Round <= round - _policy.ExcludeRounds);
        for (var anchor = Math.Max(0, ownAnchor - PlausibleCommittedAnchors); anchor < entries.Count; anchor++)
        {
            if (entries[anchor].Round <= round - _policy.ExcludeRounds)
            {
                leaders.Add(Draw(entries, anchor, round));
            }
        }

        return leaders;
    }

    /// <summary>
    /// The leaders of the rounds after <paramref name="parentRound"/> and before <paramref name="round"/> (the last
    /// <see cref="LeaderReputationPolicy.MaxFailedRounds"/> of them), as a block of <paramref name="round"/> on top of
    /// <paramref name="pathToParent"/> names them: drawn from that chain taken as committed up to the parent, so that
    /// the answer depends on the block's ancestry alone, and the proposer and every voter compute the same one. Empty
    /// with plain rotation, where nobody reads it.
    /// </summary>
    public byte[] FailedProposers(long parentRound, long round, IReadOnlyList<Block> pathToParent)
    {
        ArgumentNullException.ThrowIfNull(pathToParent);
        var first = Math.Max(parentRound + 1, round - LeaderReputationPolicy.MaxFailedRounds);
        if (!UsesReputation || first >= round)
        {
            return [];
        }

        var entries = WithUncommitted(pathToParent);
        var failed = new List<int>();
        for (var skipped = first; skipped < round; skipped++)
        {
            failed.Add(Draw(entries, entries.FindLastIndex(e => e.Round <= skipped - _policy.ExcludeRounds), skipped));
        }

        return SignerBitmap.Create(_validators.Count, failed);
    }

    private List<Entry> WithUncommitted(IReadOnlyList<Block> uncommittedPath)
    {
        var entries = new List<Entry>(_recent);
        entries.AddRange(uncommittedPath.Where(b => _recent.Count == 0 || b.Height > _recent[^1].Height).Select(EntryOf));
        return entries;
    }

    private static Entry EntryOf(Block block) =>
        new(block.Height, block.Round, block.Id, block.Header.Proposer, block.Header.Justify.Signers, block.Header.FailedProposers);

    private int Compute(long round) => Draw(_recent, _recent.FindLastIndex(e => e.Round <= round - _policy.ExcludeRounds), round);

    private int Draw(List<Entry> entries, int anchor, long round)
    {
        var (start, end) = Window(entries, anchor);
        if (start < 0)
        {
            return _validators.LeaderOf(round);
        }

        var weights = WeightsIn(entries, start, end);
        var total = weights.Sum();

        Span<byte> seed = stackalloc byte[16 + Hash32.Size + 8];
        "idos/leader/v1\0\0"u8.CopyTo(seed);
        entries[end].Id.WriteTo(seed[16..]);
        BinaryPrimitives.WriteInt64LittleEndian(seed[(16 + Hash32.Size)..], round);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(seed, digest);
        var draw = (long)(BinaryPrimitives.ReadUInt64LittleEndian(digest) % (ulong)total);
        for (var v = 0; v < weights.Length; v++)
        {
            draw -= weights[v];
            if (draw < 0)
            {
                return v;
            }
        }

        return weights.Length - 1;
    }

    /// <summary>
    /// Each validator's weight in the draw as the newest committed blocks leave it (what the next rounds' leaders are
    /// drawn by once those blocks anchor them); null while reputation is off or the chain is shorter than the window.
    /// </summary>
    public long[]? Weights()
    {
        var (start, end) = Window(_recent, _recent.Count - 1);
        return UsesReputation && start >= 0 ? WeightsIn(_recent, start, end) : null;
    }

    private long[] WeightsIn(List<Entry> entries, int start, int end)
    {
        var weights = new long[_validators.Count];
        var failed = 0;
        for (var v = 0; v < weights.Length; v++)
        {
            weights[v] = !IsActiveIn(entries, v, start, end) ? LeaderReputationPolicy.InactiveWeight
                : FailedIn(entries, v, start, end) ? LeaderReputationPolicy.FailedWeight
                : LeaderReputationPolicy.ActiveWeight;
            failed += weights[v] == LeaderReputationPolicy.FailedWeight ? 1 : 0;
        }

        // More than f failed proposers is no one's fault in particular (a partition, a stall): weighing them all down
        // would hand the rounds to whoever happened not to lead in the window, and should that one be the validator
        // whose proposals nobody takes (a clock ahead), the chain would stall with the window frozen behind it.
        for (var v = 0; v < weights.Length && failed > _validators.MaxFaulty; v++)
        {
            if (weights[v] == LeaderReputationPolicy.FailedWeight)
            {
                weights[v] = LeaderReputationPolicy.ActiveWeight;
            }
        }

        return weights;
    }

    /// <summary>
    /// Indices into the recent blocks of the window ending at <paramref name="anchor"/>, or start -1 while the chain
    /// (or what this validator holds of it) is shorter than the window: rotation until then.
    /// </summary>
    private (int Start, int End) Window(List<Entry> entries, int anchor)
    {
        if (!UsesReputation || anchor < 0 || entries[anchor].Height < _policy.WindowBlocks)
        {
            return (-1, -1);
        }

        var start = anchor - _policy.WindowBlocks + 1;
        return start < 0 || entries[start].Height != entries[anchor].Height - _policy.WindowBlocks + 1 ? (-1, -1) : (start, anchor);
    }

    private static bool IsActiveIn(List<Entry> entries, int validator, int start, int end)
    {
        for (var i = start; i <= end; i++)
        {
            if (entries[i].Proposer == validator || SignerBitmap.IsSet(entries[i].Signers, validator))
            {
                return true;
            }
        }

        return false;
    }

    private static bool FailedIn(List<Entry> entries, int validator, int start, int end)
    {
        for (var i = start; i <= end; i++)
        {
            if (SignerBitmap.IsSet(entries[i].FailedProposers, validator))
            {
                return true;
            }
        }

        return false;
    }

    private readonly record struct Entry(long Height, long Round, Hash32 Id, int Proposer, byte[] Signers, byte[] FailedProposers);
}
