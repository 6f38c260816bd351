using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

public enum ViolationKind
{
    /// <summary>Two correct validators committed different blocks (or reached different app hashes) at one height.</summary>
    Agreement,

    /// <summary>A transaction committed twice, or one no client submitted.</summary>
    Validity,

    /// <summary>A correct validator signed two different votes, proposals or timeouts for one round, or voted after timing out.</summary>
    CrashSafety,

    /// <summary>After GST, commits did not resume within the bound.</summary>
    Liveness,

    /// <summary>After the warm-up, the chain lost more rounds or more time to down validators than the scenario allows.</summary>
    Throughput,

    /// <summary>A correct validator reported a leader's app hash that differs from its own.</summary>
    Divergence,

    /// <summary>The core threw: a bug by definition, since every input must be handled.</summary>
    Exception,

    /// <summary>A committed block names another epoch or set than its height's, or its certificate is not by that set.</summary>
    Epoch,
}

public sealed record SimViolation(ViolationKind Kind, long TimeMs, string Detail)
{
    public override string ToString() => $"{Kind} at {TimeMs} ms: {Detail}";
}

/// <summary>
/// Checks the protocol's safety properties (agreement on commits, one vote per round) over what correct validators
/// do, as they do it: every commit and every signed message that leaves a correct instance passes through here.
/// </summary>
public sealed class InvariantChecker
{
    private readonly Dictionary<long, (Hash32 Block, int Instance)> _committedAtHeight = [];
    private readonly Dictionary<long, (Hash32 AppHash, int Instance)> _executedAtHeight = [];
    private readonly Dictionary<(int Validator, long Round), Hash32> _votes = [];
    private readonly Dictionary<(int Validator, long Round), Hash32> _proposals = [];
    private readonly Dictionary<(int Validator, long Round), long> _timeouts = [];
    private readonly HashSet<Hash32> _submitted = [];
    private readonly List<SimViolation> _violations = [];

    public IReadOnlyList<SimViolation> Violations => _violations;

    public bool HasAgreementViolation { get; private set; }

    public void OnSubmitted(Hash32 transaction) => _submitted.Add(transaction);

    public void OnCommit(long now, int instance, Block block, SimBlockStore store)
    {
        if (store.Corruption is { } corruption)
        {
            Add(ViolationKind.Validity, now, $"instance {instance}: {corruption}");
        }

        foreach (var hash in block.TransactionHashes)
        {
            if (!_submitted.Contains(hash))
            {
                Add(ViolationKind.Validity, now, $"instance {instance} committed transaction {hash.ToShortString()} that no client submitted");
            }
        }

        if (!_committedAtHeight.TryGetValue(block.Height, out var earlier))
        {
            _committedAtHeight[block.Height] = (block.Id, instance);
            return;
        }

        if (earlier.Block != block.Id)
        {
            HasAgreementViolation = true;
            Add(ViolationKind.Agreement, now,
                $"height {block.Height}: instance {earlier.Instance} committed {earlier.Block.ToShortString()}, instance {instance} committed {block.Id.ToShortString()}");
        }
    }

    /// <summary>A correct instance's executor reached <paramref name="appHash"/> after <paramref name="height"/>; every other must too.</summary>
    public void OnExecuted(long now, int instance, long height, Hash32 appHash)
    {
        if (!_executedAtHeight.TryGetValue(height, out var earlier))
        {
            _executedAtHeight[height] = (appHash, instance);
        }
        else if (earlier.AppHash != appHash)
        {
            HasAgreementViolation = true;
            Add(ViolationKind.Agreement, now, $"height {height}: instances {earlier.Instance} and {instance} reached different app hashes");
        }
    }

    /// <summary>A message signed by a correct validator is leaving its instance.</summary>
    public void OnSigned(long now, int validator, ConsensusMessage message)
    {
        switch (message)
        {
            case Vote vote when vote.Voter == validator:
                if (_votes.TryGetValue((validator, vote.Round), out var voted) && voted != vote.BlockId)
                {
                    Add(ViolationKind.CrashSafety, now, $"validator {validator} voted for {voted.ToShortString()} and {vote.BlockId.ToShortString()} in round {vote.Round}");
                }

                if (_timeouts.ContainsKey((validator, vote.Round)))
                {
                    Add(ViolationKind.CrashSafety, now, $"validator {validator} voted in round {vote.Round} after timing out in it");
                }

                _votes.TryAdd((validator, vote.Round), vote.BlockId);
                break;
            case TimeoutVote timeout when timeout.Voter == validator:
                if (_timeouts.TryGetValue((validator, timeout.Round), out var highQcRound) && highQcRound != timeout.HighQc.Round)
                {
                    Add(ViolationKind.CrashSafety, now, $"validator {validator} signed two different timeouts for round {timeout.Round}");
                }

                _timeouts.TryAdd((validator, timeout.Round), timeout.HighQc.Round);
                break;
            case Proposal proposal when proposal.Block.Header.Proposer == validator:
                if (_proposals.TryGetValue((validator, proposal.Round), out var proposed) && proposed != proposal.Block.Id)
                {
                    Add(ViolationKind.CrashSafety, now, $"validator {validator} proposed two different blocks in round {proposal.Round}");
                }

                _proposals.TryAdd((validator, proposal.Round), proposal.Block.Id);
                break;
            default:
                break;
        }
    }

    public void Add(ViolationKind kind, long now, string detail)
    {
        // A broken world repeats itself; the first few reports say everything.
        if (_violations.Count < 20)
        {
            _violations.Add(new SimViolation(kind, now, detail));
        }
    }
}
