using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;

namespace IdOS.Akka.Engine.Tests.Consensus;

/// <summary>A chain of n validators with known keys, and helpers that sign things the way honest validators do.</summary>
internal sealed class TestChain
{
    public const long GenesisTime = 1_700_000_000_000;

    public TestChain(int validators = 4, string chainId = "test-chain")
    {
        Keys = [.. Enumerable.Range(0, validators).Select(SimWorld.ValidatorKey)];
        Chain = new ChainParameters(chainId, new ValidatorSet([.. Keys.Select(k => k.PublicKey)]), GenesisTime);
        Checks = new SignatureChecks(Chain, Ed25519Verifier.Instance);
    }

    private TestChain(ChainParameters chain, Ed25519PrivateKey[] keys)
    {
        Keys = keys;
        Chain = chain;
        Checks = new SignatureChecks(Chain, Ed25519Verifier.Instance);
    }

    /// <summary>The same chain in a later epoch whose set holds the validators of these key indices, in this order.</summary>
    public TestChain InEpoch(long epoch, params int[] keyIndices)
    {
        Ed25519PrivateKey[] keys = [.. keyIndices.Select(SimWorld.ValidatorKey)];
        return new TestChain(Chain.ForEpoch(epoch, new ValidatorSet([.. keys.Select(k => k.PublicKey)])), keys);
    }

    public Ed25519PrivateKey[] Keys { get; }

    public ChainParameters Chain { get; }

    public SignatureChecks Checks { get; }

    public int N => Keys.Length;

    public int Quorum => Chain.Validators.Quorum;

    public Vote Vote(int voter, Hash32 blockId, long round) =>
        new(blockId, round, voter, Keys[voter].Sign(Chain.Domain.Vote(blockId, round)));

    public QuorumCertificate Qc(Hash32 blockId, long round, IEnumerable<int>? signers = null)
    {
        var chosen = (signers ?? Enumerable.Range(0, Quorum)).Order().ToList();
        return new QuorumCertificate(blockId, round, SignerBitmap.Create(N, chosen),
            [.. chosen.Select(i => Keys[i].Sign(Chain.Domain.Vote(blockId, round)))]);
    }

    public QuorumCertificate QcFor(Block block, IEnumerable<int>? signers = null) => Qc(block.Id, block.Round, signers);

    public TimeoutVote Timeout(int voter, long round, QuorumCertificate highQc) =>
        new(round, highQc, voter, Keys[voter].Sign(Chain.Domain.Timeout(round, highQc.Round)));

    public TimeoutCertificate Tc(long round, long highQcRound, IEnumerable<int>? signers = null)
    {
        var chosen = (signers ?? Enumerable.Range(0, Quorum)).Order().ToList();
        return new TimeoutCertificate(round, SignerBitmap.Create(N, chosen), [.. chosen.Select(_ => highQcRound)],
            [.. chosen.Select(i => Keys[i].Sign(Chain.Domain.Timeout(round, highQcRound)))]);
    }

    public Block Block(long round, Block parent, QuorumCertificate? justify = null, IReadOnlyList<byte[]>? transactions = null,
        long? timestamp = null, int? proposer = null, Hash32 nextSetHash = default) =>
        Engine.Consensus.Block.Create(
            round,
            parent.Height + 1,
            justify ?? QcFor(parent),
            proposer ?? Chain.Validators.LeaderOf(round),
            timestamp ?? parent.Header.Timestamp + 1,
            transactions ?? [],
            0,
            Chain.GenesisAppHash,
            epoch: Chain.Epoch,
            setHash: Chain.Validators.Hash,
            nextSetHash: nextSetHash);

    public Proposal Propose(Block block, TimeoutCertificate? tc = null, int? signer = null) =>
        new(block, Keys[signer ?? block.Header.Proposer].Sign(Chain.Domain.Proposal(block.Id)), tc);

    public Replica Replica(int index, SafetyState? state = null, SimBlockStore? store = null, ProtocolMutation mutation = ProtocolMutation.None,
        ReplicaOptions? options = null)
    {
        return new Replica(Chain, index, Keys[index], Ed25519Verifier.Instance, store ?? new SimBlockStore(), state ?? SafetyState.Initial(Chain), [],
            (options ?? new ReplicaOptions()) with
            {
                DecorateSafetyRules = ProtocolMutations.Decorator(mutation, Chain, index, Keys[index]),
            });
    }

    public static byte[] Tx(int i) => System.Text.Encoding.UTF8.GetBytes($"transaction-{i}");
}

internal static class CommittedBlockStoreExtensions
{
    /// <summary>A committed block with its app hash recorded at once, as the store holds it once the executor has reported.</summary>
    public static void AppendExecuted(this ICommittedBlockStore store, Block block, QuorumCertificate certificate, Hash32 appHash)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(block);
        store.Append(block, certificate);
        store.RecordAppHash(block.Height, appHash);
    }
}
