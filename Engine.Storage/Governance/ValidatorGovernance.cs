using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using LinqToDB;
using LinqToDB.Data;

namespace IdOS.Akka.Engine.Storage.Governance;

/// <summary>A scheduled validator set: epoch 0 is genesis, from height 1.</summary>
public sealed record ValidatorEpoch(long Epoch, long StartHeight, long DecidedHeight, IReadOnlyList<ValidatorMember> Members, string SetHash);

/// <summary>
/// How governance decides. A change that passes in the block at height h takes effect with the block at
/// h + <see cref="EpochDelay"/> (or the height after the last scheduled epoch's start, if that is later), so
/// every validator knows the set of a height well before it votes there. An open request lapses
/// <see cref="RequestLifetime"/> blocks after it opened.
/// </summary>
public sealed record GovernanceRules(long EpochDelay = GovernanceRules.DefaultEpochDelay, long RequestLifetime = GovernanceRules.DefaultRequestLifetime)
{
    public const long DefaultEpochDelay = 10;
    public const long DefaultRequestLifetime = 100_000;

    /// <summary>The most validators a set may hold; consensus bitmaps are sized for it.</summary>
    public const int MaxMembers = 1024;

    /// <summary>Below this one fault halts the network; the operators must consent explicitly.</summary>
    public const int SafeMinimum = 4;
}

/// <summary>
/// Executes validator_join, _approve, _remove and _leave against the state, in the block's transaction, so the
/// scheduled sets and open requests are part of the app hash and of every snapshot. Joins pass with approvals of
/// more than 2/3 of the set; removals with more than 2/3 of the set without the target; a leave at once. A change
/// that would leave fewer live validators than the new set's quorum is refused, as is a set below four without the
/// flag: both would halt the network. Live means signing a certificate lately, which the caller works out from the
/// committed chain and passes per block.
/// </summary>
public sealed class ValidatorGovernance(IReadOnlyList<ValidatorMember> genesis, GovernanceRules? rules = null)
{
    private const string JoinKind = "join";
    private const string RemoveKind = "remove";

    public GovernanceRules Rules { get; } = rules ?? new GovernanceRules();

    public IReadOnlyList<ValidatorMember> Genesis { get; } = genesis;

    /// <summary>
    /// How many sets this instance has scheduled: a caller that reads the schedule after each block reads it again only
    /// when this moved (a block whose transaction fails is never committed, and execution stops the node).
    /// </summary>
    public long SetsScheduled { get; private set; }

    /// <summary>Every set, from genesis to the last one scheduled.</summary>
    public IReadOnlyList<ValidatorEpoch> Epochs(DataConnection db)
    {
        ArgumentNullException.ThrowIfNull(db);
        List<ValidatorEpoch> epochs = [new ValidatorEpoch(0, 1, 0, Genesis, ValidatorMember.SetHash(Genesis.Select(m => m.Key)))];
        epochs.AddRange(db.GetTable<ValidatorEpochRow>().OrderBy(e => e.Epoch).AsEnumerable()
            .Select(e => new ValidatorEpoch(e.Epoch, e.StartHeight, e.DecidedHeight, ValidatorMember.Parse(e.Members), e.SetHash)));
        return epochs;
    }

    /// <summary>Requests still open after <paramref name="height"/>.</summary>
    public static IReadOnlyList<ValidatorRequestRow> OpenRequests(DataConnection db, long height)
    {
        ArgumentNullException.ThrowIfNull(db);
        return [.. db.GetTable<ValidatorRequestRow>().Where(r => r.ExpiresHeight >= height).OrderBy(r => r.Id)];
    }

    /// <summary>
    /// Runs one governance transaction, already decoded and signed by <paramref name="signer"/>. A refusal changes
    /// nothing. <paramref name="live"/> holds the hex keys of the validators that signed a certificate lately; null
    /// counts every member as live.
    /// </summary>
    public (int Code, string Log) Execute(DataConnection db, ValidatorPayload payload, string signatureType, byte[] signer, long height,
        IReadOnlySet<string>? live)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentNullException.ThrowIfNull(signer);
        if (signatureType != KwilAuthenticator.Ed25519Type || signer.Length != ValidatorPayload.KeySize)
        {
            return (TxCode.NotAValidator, $"{payload.PayloadType} is signed with the validator's ed25519 key, not {signatureType}");
        }

        var key = Convert.ToHexStringLower(signer);
        var latest = Epochs(db)[^1];
        var members = latest.Members;
        var isMember = members.Any(m => m.Key == key);
        if (payload is not ValidatorJoin && !isMember)
        {
            return (TxCode.NotAValidator, $"{key} is not in the validator set of epoch {latest.Epoch}");
        }

        return payload switch
        {
            ValidatorJoin join => Join(db, key, join, isMember, members.Count, height),
            ValidatorApprove approve => Approve(db, latest, key, Convert.ToHexStringLower(approve.Candidate), height, live),
            ValidatorRemove remove => Remove(db, latest, key, Convert.ToHexStringLower(remove.Target), remove.AllowFewerThanFour, height, live),
            ValidatorLeave leave => Leave(db, latest, key, leave.AllowFewerThanFour, height, live),
            _ => throw new ArgumentException($"Unknown governance payload {payload.GetType().Name}.", nameof(payload)),
        };
    }

    private (int, string) Join(DataConnection db, string candidate, ValidatorJoin join, bool isMember, int setSize, long height)
    {
        if (isMember)
        {
            return (TxCode.AlreadyDone, $"{candidate} is already a validator");
        }

        if (!ValidatorMember.IsDialable(join.Address))
        {
            return (TxCode.InvalidGovernance, $"'{join.Address}' is not host:port with a port from 1 to 65535");
        }

        if (setSize >= GovernanceRules.MaxMembers)
        {
            return (TxCode.InvalidGovernance, $"the validator set is full ({GovernanceRules.MaxMembers})");
        }

        var id = RequestId(JoinKind, candidate);
        if (Open(db, id, height) is { } open)
        {
            return (TxCode.AlreadyDone, $"{candidate} asked to join at height {open.OpenedHeight}; the request is open until height {open.ExpiresHeight}");
        }

        db.GetTable<ValidatorRequestRow>().Where(r => r.Id == id).Delete();
        db.Insert(new ValidatorRequestRow
        {
            Id = id,
            Kind = JoinKind,
            Subject = candidate,
            TlsPin = Convert.ToHexStringLower(join.TlsPin),
            Address = join.Address,
            OpenedHeight = height,
            ExpiresHeight = height + Rules.RequestLifetime,
        });
        return (TxCode.Ok, "");
    }

    private (int, string) Approve(DataConnection db, ValidatorEpoch latest, string approver, string candidate, long height, IReadOnlySet<string>? live)
    {
        if (Open(db, RequestId(JoinKind, candidate), height) is not { } request)
        {
            return (TxCode.NoOpenRequest, $"{candidate} has no open join request");
        }

        var approvals = WithApproval(request, approver, out var already);
        if (already)
        {
            return (TxCode.AlreadyDone, $"{approver} already approved {candidate}");
        }

        var members = latest.Members;
        if (!Passes(approvals, members.Select(m => m.Key)))
        {
            return Record(db, request, approvals);
        }

        var joined = members.Append(new ValidatorMember(candidate, [request.TlsPin!], request.Address!)).ToList();
        if (LivenessRefusal(joined, live, $"adding {candidate}") is { } refusal)
        {
            return refusal;
        }

        db.GetTable<ValidatorRequestRow>().Where(r => r.Id == request.Id).Delete();
        return Schedule(db, latest, joined, height);
    }

    private (int, string) Remove(DataConnection db, ValidatorEpoch latest, string approver, string target, bool allowSmall, long height,
        IReadOnlySet<string>? live)
    {
        if (target == approver)
        {
            return (TxCode.InvalidGovernance, "a validator leaves with validator_leave, not by removing itself");
        }

        var members = latest.Members;
        if (members.All(m => m.Key != target))
        {
            return (TxCode.NotAValidator, $"{target} is not in the validator set of epoch {latest.Epoch}");
        }

        var id = RequestId(RemoveKind, target);
        var request = Open(db, id, height) ?? new ValidatorRequestRow
        {
            Id = id,
            Kind = RemoveKind,
            Subject = target,
            OpenedHeight = height,
            ExpiresHeight = height + Rules.RequestLifetime,
        };
        var approvals = WithApproval(request, approver, out var already);
        if (already)
        {
            return (TxCode.AlreadyDone, $"{approver} already voted to remove {target}");
        }

        var voters = members.Where(m => m.Key != target).Select(m => m.Key);
        if (!Passes(approvals, voters))
        {
            return Record(db, request, approvals);
        }

        var remaining = members.Where(m => m.Key != target).ToList();
        if ((SizeRefusal(remaining.Count, allowSmall) ?? LivenessRefusal(remaining, live, $"removing {target}")) is { } refusal)
        {
            return refusal;
        }

        db.GetTable<ValidatorRequestRow>().Where(r => r.Id == id).Delete();
        return Schedule(db, latest, remaining, height);
    }

    private (int, string) Leave(DataConnection db, ValidatorEpoch latest, string leaver, bool allowSmall, long height, IReadOnlySet<string>? live)
    {
        var remaining = latest.Members.Where(m => m.Key != leaver).ToList();
        if ((SizeRefusal(remaining.Count, allowSmall) ?? LivenessRefusal(remaining, live, $"{leaver} leaving")) is { } refusal)
        {
            return refusal;
        }

        var id = RequestId(RemoveKind, leaver);
        db.GetTable<ValidatorRequestRow>().Where(r => r.Id == id).Delete();
        return Schedule(db, latest, remaining, height);
    }

    private (int, string) Schedule(DataConnection db, ValidatorEpoch latest, List<ValidatorMember> members, long height)
    {
        var epoch = latest.Epoch + 1;
        var start = Math.Max(height + Rules.EpochDelay, latest.StartHeight + 1);
        db.Insert(new ValidatorEpochRow
        {
            Id = ValidatorEpochRow.IdOf(epoch),
            Epoch = epoch,
            StartHeight = start,
            DecidedHeight = height,
            Members = ValidatorMember.Format(members),
            SetHash = ValidatorMember.SetHash(members.Select(m => m.Key)),
        });
        SetsScheduled++;
        return (TxCode.Ok, $"epoch {epoch} of {members.Count} validators starts at height {start}");
    }

    private static (int, string) Record(DataConnection db, ValidatorRequestRow request, SortedSet<string> approvals)
    {
        request.Approvals = string.Join(',', approvals);
        db.InsertOrReplace(request);
        return (TxCode.Ok, $"{approvals.Count} approval(s) recorded");
    }

    private static (int, string)? SizeRefusal(int remaining, bool allowSmall) =>
        remaining == 0 ? (TxCode.SetTooSmall, "the last validator cannot leave")
        : remaining < GovernanceRules.SafeMinimum && !allowSmall
            ? (TxCode.SetTooSmall, $"the set would have {remaining} validators, fewer than {GovernanceRules.SafeMinimum}, where one fault halts the network; pass the explicit flag to allow it")
            : null;

    /// <summary>Refuses a set whose live members cannot form its quorum (n - f, f = (n - 1) / 3).</summary>
    private static (int, string)? LivenessRefusal(List<ValidatorMember> members, IReadOnlySet<string>? live, string change)
    {
        if (live is null)
        {
            return null;
        }

        var quorum = members.Count - ((members.Count - 1) / 3);
        var alive = members.Count(m => live.Contains(m.Key));
        return alive >= quorum
            ? null
            : (TxCode.TooFewLive, $"{change} leaves {alive} live validators of {members.Count}, fewer than the quorum of {quorum}; the network would halt");
    }

    /// <summary>More than 2/3 of the voters approve; approvals of former members do not count.</summary>
    private static bool Passes(SortedSet<string> approvals, IEnumerable<string> voters)
    {
        var eligible = voters.ToList();
        return 3 * eligible.Count(approvals.Contains) > 2 * eligible.Count;
    }

    private static SortedSet<string> WithApproval(ValidatorRequestRow request, string approver, out bool already)
    {
        var approvals = new SortedSet<string>(request.Approvals.Length == 0 ? [] : request.Approvals.Split(','), StringComparer.Ordinal);
        already = !approvals.Add(approver);
        return approvals;
    }

    private static ValidatorRequestRow? Open(DataConnection db, string id, long height) =>
        db.GetTable<ValidatorRequestRow>().FirstOrDefault(r => r.Id == id && r.ExpiresHeight >= height);

    private static string RequestId(string kind, string subject) => $"{kind}:{subject}";
}
