using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// What genesis fixes for every node: the chain id (which every signature commits to), the validator set and the
/// genesis time. The genesis block is derived from them, so two chains never share a genesis block id.
/// </summary>
public sealed class ChainParameters
{
    /// <summary>Blocks between two snapshots of the idOS state, unless genesis says otherwise.</summary>
    public const long DefaultSnapshotInterval = 10_000;

    /// <summary>
    /// A validator-set change starts at least this many heights after the block that decides it, so that every
    /// validator has executed the decision before it votes at the height where it takes effect.
    /// </summary>
    public const long EpochDelay = 10;

    public ChainParameters(string chainId, ValidatorSet validators, long genesisTimestampMs, ConsensusLimits? limits = null, string databaseOwner = "",
        LeaderReputationPolicy? leaderReputation = null, long snapshotInterval = DefaultSnapshotInterval)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(snapshotInterval);
        ArgumentNullException.ThrowIfNull(databaseOwner);
        ArgumentException.ThrowIfNullOrWhiteSpace(chainId);
        ArgumentNullException.ThrowIfNull(validators);
        ArgumentOutOfRangeException.ThrowIfNegative(genesisTimestampMs);
        if (System.Text.Encoding.UTF8.GetByteCount(chainId) > 128)
        {
            throw new ArgumentException("A chain id is at most 128 UTF-8 bytes.", nameof(chainId));
        }

        leaderReputation ??= LeaderReputationPolicy.Off;
        if (leaderReputation.Check() is { } problem)
        {
            throw new ArgumentException(problem, nameof(leaderReputation));
        }

        ChainId = chainId;
        Validators = validators;
        LeaderReputation = leaderReputation;
        DatabaseOwner = databaseOwner;
        SnapshotInterval = snapshotInterval;
        Limits = limits ?? ConsensusLimits.Default;
        Domain = new SigningDomain(chainId);
        GenesisAppHash = ComputeGenesisStateHash(chainId, validators, genesisTimestampMs, databaseOwner, leaderReputation, snapshotInterval);
        var noParent = new QuorumCertificate(Hash32.Zero, 0, [], []);
        GenesisBlock = Block.Create(0, 0, noParent, BlockHeader.NoProposer, genesisTimestampMs, [], 0, GenesisAppHash);
        GenesisQc = QuorumCertificate.ForGenesis(GenesisBlock.Id, validators.Count);
    }

    /// <summary>The same chain with the set of a later epoch: its blocks name that set, and its signatures name the epoch.</summary>
    private ChainParameters(ChainParameters genesis, long epoch, ValidatorSet validators)
    {
        ChainId = genesis.ChainId;
        Validators = validators;
        Epoch = epoch;
        LeaderReputation = genesis.LeaderReputation;
        DatabaseOwner = genesis.DatabaseOwner;
        SnapshotInterval = genesis.SnapshotInterval;
        Limits = genesis.Limits;
        Domain = new SigningDomain(genesis.ChainId, epoch);
        GenesisAppHash = genesis.GenesisAppHash;
        GenesisBlock = genesis.GenesisBlock;
        GenesisQc = genesis.GenesisQc;
    }

    public string ChainId { get; }

    /// <summary>The validators of <see cref="Epoch"/>: genesis's for epoch 0.</summary>
    public ValidatorSet Validators { get; }

    /// <summary>The validator-set epoch these parameters hold the set of; 0 from genesis.</summary>
    public long Epoch { get; }

    /// <summary>
    /// The identity that holds the application's owner role (Kwil's `db_owner`: an EVM address or a hex ed25519 key),
    /// empty when nobody does. It is initial state, so it is bound into the genesis app hash.
    /// </summary>
    public string DatabaseOwner { get; }

    /// <summary>
    /// Every this many blocks (0: never) the state machine snapshots its state and folds the snapshot's root into
    /// that height's app hash; every validator must do the same, so genesis binds it.
    /// </summary>
    public long SnapshotInterval { get; }

    public ConsensusLimits Limits { get; }

    /// <summary>How leaders are chosen; every validator must use the same, so genesis binds it.</summary>
    public LeaderReputationPolicy LeaderReputation { get; }

    public SigningDomain Domain { get; }

    /// <summary>The state before any block: it binds the chain id, validator keys and genesis time.</summary>
    public Hash32 GenesisAppHash { get; }

    public Block GenesisBlock { get; }

    /// <summary>The certificate every chain starts from; round 0, no signatures.</summary>
    public QuorumCertificate GenesisQc { get; }

    /// <summary>The parameters of a later epoch: everything genesis fixed, with that epoch's validators.</summary>
    public ChainParameters ForEpoch(long epoch, ValidatorSet validators)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epoch);
        ArgumentNullException.ThrowIfNull(validators);
        return new ChainParameters(this, epoch, validators);
    }

    private static Hash32 ComputeGenesisStateHash(string chainId, ValidatorSet validators, long genesisTimestampMs, string databaseOwner,
        LeaderReputationPolicy leaderReputation, long snapshotInterval)
    {
        var writer = new CanonicalWriter();
        writer.WriteString("idos-akka/genesis/v1");
        writer.WriteString(chainId);
        writer.WriteU63(genesisTimestampMs);
        writer.WriteU16(validators.Count);
        for (var i = 0; i < validators.Count; i++)
        {
            writer.WriteFixed(validators[i].Bytes);
        }

        var schedule = validators.LeaderSchedule ?? [];
        writer.WriteU32(schedule.Count);
        foreach (var leader in schedule)
        {
            writer.WriteU16(leader);
        }

        // Appended only when set, so that chains without an owner keep the genesis they always had.
        if (databaseOwner.Length > 0)
        {
            writer.WriteString(databaseOwner);
        }

        // Likewise only when on; the tag keeps it apart from an owner, which is hex.
        if (leaderReputation.IsOn)
        {
            writer.WriteString("leader-reputation");
            writer.WriteU32(leaderReputation.WindowBlocks);
            writer.WriteU32(leaderReputation.ExcludeRounds);
        }

        if (snapshotInterval != DefaultSnapshotInterval)
        {
            writer.WriteString("snapshot-interval");
            writer.WriteU63(snapshotInterval);
        }

        return Hash32.Compute(writer.WrittenSpan);
    }
}
