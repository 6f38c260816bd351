using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// The validator-set changes of a world: each decided at a fixed height (as a governance transaction in that block
/// would decide it), starting <see cref="ChainParameters.EpochDelay"/> heights later, and each instance's replica
/// for the epoch its committed chain is in. An epoch's set reorders the validators (new indices, a new leader order
/// and set hash) and, with five validators or more, the last one leaves out one validator, whose instances retire.
/// </summary>
internal sealed class SimEpochs
{
    private const long FirstDecision = 20;
    private const long DecisionInterval = 30;
    private const int Changes = 3;

    private readonly List<(long Decided, long Start, ChainParameters Chain)> _epochs;

    public SimEpochs(ChainParameters genesis, bool changing)
    {
        _epochs = [(0, 1, genesis)];
        if (!changing)
        {
            return;
        }

        var keys = Enumerable.Range(0, genesis.Validators.Count).Select(i => genesis.Validators[i]).ToList();
        for (var epoch = 1; epoch <= Changes; epoch++)
        {
            var decided = FirstDecision + ((epoch - 1) * DecisionInterval);
            var set = keys.Skip(epoch).Concat(keys.Take(epoch)).ToList();
            if (epoch == Changes && keys.Count >= 5)
            {
                set.RemoveAt(set.Count - 1);
            }

            _epochs.Add((decided, decided + ChainParameters.EpochDelay, genesis.ForEpoch(epoch, new ValidatorSet(set))));
        }
    }

    public ChainParameters Chain(long epoch) => _epochs[(int)epoch].Chain;

    /// <summary>The next epoch, for a replica of <paramref name="epoch"/> whose instance executed <paramref name="height"/>.</summary>
    public NextEpoch? DecidedAt(long epoch, long height) =>
        epoch + 1 < _epochs.Count && _epochs[(int)epoch + 1].Decided == height ? Next(epoch) : null;

    private NextEpoch Next(long epoch) => new(_epochs[(int)epoch + 1].Start, _epochs[(int)epoch + 1].Chain.Validators.Hash);

    /// <summary>The epoch a replica runs in once its instance has committed and executed up to <paramref name="height"/>.</summary>
    public long EpochAfter(long height)
    {
        var epoch = 0;
        while (epoch + 1 < _epochs.Count && _epochs[epoch + 1].Start <= height + 1)
        {
            epoch++;
        }

        return epoch;
    }

    /// <summary>Whether an instance with this key has a vote in <paramref name="epoch"/>; one left out retires.</summary>
    public bool IsMember(long epoch, Ed25519PublicKey key) => IndexOf(epoch, key) >= 0;

    /// <summary>
    /// A replica of the epoch its instance's committed chain is in. <paramref name="ended"/> is the effect of the
    /// epoch before, when the new one opens as it ends; otherwise the instance restarts into it from what it kept.
    /// </summary>
    public Replica Create(SimInstance instance, SafetyState safety, ReplicaOptions options, ISignatureVerifier verifier, EpochEnded? ended)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var epoch = EpochAfter(instance.Store.Height);
        var chain = Chain(epoch);
        if (ended is not null)
        {
            // Its signatures name the epoch, so nothing of the last one carries over but the rounds it signed in.
            instance.EpochProof = ended.Proof;
            safety = SafetyState.OpeningEpoch(epoch, instance.Store.CertificateAt(instance.Store.Height)!, safety.LastVotedRound);
            instance.SafetyState = ConsensusCodec.EncodeSafetyState(safety);
            instance.PendingBlocks.Clear();
        }
        else if (safety.Epoch < epoch)
        {
            // A crash between the last commit of an epoch and the opening of the next.
            safety = SafetyState.OpeningEpoch(epoch, instance.Store.CertificateAt(_epochs[(int)epoch].Start - 1)!, safety.LastVotedRound);
        }

        var replicaEpoch = epoch == 0 ? null
            : new ReplicaEpoch(_epochs[(int)epoch].Start, Chain(epoch - 1), instance.EpochProof?.LastHeight == _epochs[(int)epoch].Start - 1 ? instance.EpochProof : null,
                Opening: ended is not null);
        var replica = new Replica(chain, IndexOf(epoch, instance.Key.PublicKey), instance.Key, verifier, instance.Store, safety,
            ended is null ? instance.PendingBlocks.Values : [], options, replicaEpoch);
        if (epoch + 1 < _epochs.Count && _epochs[(int)epoch + 1].Decided <= instance.Store.ExecutedHeight)
        {
            replica.Epoch.EndBefore(Next(epoch));
        }

        instance.Chain = chain;
        return replica;
    }

    /// <summary>
    /// Null when a committed block belongs to the epoch of its height, names that epoch's set, and its certificate is
    /// signed by that set under that epoch's domain: no certificate of one epoch's set is taken in another.
    /// </summary>
    public string? CommitProblem(Block block, QuorumCertificate certificate, ISignatureVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(block);
        var epoch = EpochAfter(block.Height - 1);
        var chain = Chain(epoch);
        if (block.Header.Epoch != epoch || block.Header.SetHash != chain.Validators.Hash)
        {
            return $"{block} names epoch {block.Header.Epoch} and set {block.Header.SetHash.ToShortString()}; height {block.Height} is epoch {epoch}'s";
        }

        var verdict = new SignatureChecks(chain, verifier).CheckQc(certificate);
        return verdict.IsAccepted ? null : $"{block} is certified by a QC that epoch {epoch}'s set did not sign: {verdict.Reason}";
    }

    private int IndexOf(long epoch, Ed25519PublicKey key)
    {
        var validators = Chain(epoch).Validators;
        return Enumerable.Range(0, validators.Count).FirstOrDefault(i => validators[i].Equals(key), -1);
    }
}
