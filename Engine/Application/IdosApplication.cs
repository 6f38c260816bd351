using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Crypto;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Governance;
using IdOS.Akka.Engine.Storage.Snapshots;

namespace IdOS.Akka.Engine.Application;

/// <summary>
/// The idOS state machine behind consensus: Kwil transactions checked at the mempool (encoding, chain id, signature)
/// and executed block by block into the relational state (<see cref="BlockExecutor"/>), on SQLite or PostgreSQL.
/// Execution has the state's connection; the mempool reads account nonces through a second one, beside it.
/// </summary>
public sealed class IdosApplication : IStateMachine, IDisposable
{
    private readonly StateDatabase _state;
    private readonly StateDatabase _mempoolReads;
    private readonly BlockExecutor _executor;
    private readonly string _chainId;
    private readonly ISecp256k1Recovery _recovery;
    private readonly VerifiedSignatures _verified = new();
    private readonly RecentSigners _signers;
    private readonly ValidatorGovernance _governance;
    private List<ScheduledEpoch> _scheduled = [];
    private long _setsScheduledSeen;

    private IdosApplication(StateDatabase state, StateDatabase mempoolReads, ChainParameters chain, ISecp256k1Recovery recovery, long executedHeight, Hash32 appHash,
        SnapshotDirectory? snapshots)
    {
        _state = state;
        _mempoolReads = mempoolReads;
        _chainId = chain.ChainId;
        _recovery = recovery;
        _governance = Governance(chain);
        _executor = new BlockExecutor(state, chain.ChainId, Owners(chain), recovery, _verified, new SnapshotSchedule(chain.SnapshotInterval, snapshots),
            _governance);
        _signers = new RecentSigners(height => _scheduled.LastOrDefault(e => e.StartHeight <= height)?.Validators ?? chain.Validators);
        Snapshots = snapshots;
        ExecutedHeight = executedHeight;
        AppHash = appHash;
    }

    public long ExecutedHeight { get; private set; }

    public Hash32 AppHash { get; private set; }

    public StateDatabase State => _state;

    public IReadOnlyList<ScheduledEpoch> ScheduledEpochs => _scheduled;

    /// <summary>Where the snapshots execution takes are kept; null when the node keeps none.</summary>
    public SnapshotDirectory? Snapshots { get; }

    /// <summary>
    /// Opens the state and brings it level with the committed blocks. Execution commits the state block by block and
    /// the block store records each app hash after that, so after a crash the state may be ahead of the recorded app
    /// hashes (files written before execution followed commits may even hold state beyond the stored blocks: those
    /// blocks are committed again from what consensus kept or fetches, and each is recognised by its id and not
    /// executed twice). Where the store has recorded an app hash at or below the state's height, the two must agree.
    /// A state behind the store (a new database, a switch to PostgreSQL, a crash before execution) replays the stored
    /// blocks and checks each app hash against any recorded for it. Snapshots the chain's interval calls for are
    /// written to <paramref name="snapshots"/>, or only hashed into the app hash when the node keeps none.
    /// </summary>
    public static IdosApplication Open(StateStoreOptions options, ChainParameters chain, ICommittedBlockStore blocks, ISecp256k1Recovery recovery,
        SnapshotDirectory? snapshots = null)
    {
        ArgumentNullException.ThrowIfNull(chain);
        ArgumentNullException.ThrowIfNull(blocks);
        var state = StateDatabase.Open(options);
        StateDatabase? mempoolReads = null;
        try
        {
            mempoolReads = StateDatabase.Open(options);
            var executor = new BlockExecutor(state, chain.ChainId, Owners(chain), recovery, governance: Governance(chain));
            var stateHeight = executor.ExecutedHeight;
            var bothHold = Math.Min(stateHeight, blocks.ExecutedHeight);
            if (bothHold > 0 && blocks.AppHashAt(bothHold) is { } stored
                && executor.AppHashAt(bothHold) is var held && (held is null || !held.AsSpan().SequenceEqual(stored.ToArray())))
            {
                throw new InvalidOperationException(
                    $"The idOS state (executed height {stateHeight}) holds {(held is null ? "no app hash" : $"app hash {Convert.ToHexStringLower(held)}")} " +
                    $"for height {bothHold}, where the block store recorded {stored}; they belong to different data folders.");
            }

            var application = new IdosApplication(state, mempoolReads, chain, recovery, Math.Min(stateHeight, blocks.Height),
                HashAt(executor, chain, Math.Min(stateHeight, blocks.Height)), snapshots);
            application._scheduled = application.ReadSchedule();
            application._signers.FillBelow(application.ExecutedHeight + 1, blocks);
            for (var height = stateHeight + 1; height <= blocks.Height; height++)
            {
                var block = blocks.GetByHeight(height) ?? throw new InvalidOperationException(
                    $"The idOS state is at height {stateHeight} and block {height} is no longer stored; restore the state database or a snapshot.");
                var replayed = application.Execute(block);
                if (blocks.AppHashAt(height) is { } recorded && recorded != replayed)
                {
                    throw new InvalidOperationException($"Replaying block {height} gave app hash {replayed}, but {recorded} was recorded when it was committed.");
                }
            }

            return application;
        }
        catch
        {
            mempoolReads?.Dispose();
            state.Dispose();
            throw;
        }
    }

    public string? CheckTransaction(ReadOnlySpan<byte> transaction) => TransactionGate.RefusalForMempool(transaction, _chainId, _recovery, _verified);

    /// <summary>The check, and the transaction's place in its account's line: an account is named by its key type and identifier.</summary>
    public MempoolVerdict CheckForMempool(ReadOnlySpan<byte> transaction, Hash32 hash)
    {
        Span<byte> bytes = stackalloc byte[Hash32.Size];
        hash.WriteTo(bytes);
        var (refusal, admitted) = TransactionGate.ForMempool(transaction, _chainId, _recovery, _verified, bytes);
        // Every supported authenticator requires the sender to be the signer, which the gate checked.
        return admitted is { Sender: { } sender, Signature: { } signature }
            ? new MempoolVerdict(null, new SenderNonce($"{KwilAuthenticator.AccountKeyType(signature.Type)}:{Convert.ToHexString(sender)}", admitted.Body.Nonce))
            : new MempoolVerdict(refusal, null);
    }

    /// <summary>
    /// The nonce the state expects next from an account named as <see cref="CheckForMempool"/> names it: its last
    /// executed nonce plus one. Called by the mempool while blocks execute, so it reads through a connection of its own.
    /// </summary>
    public ulong NextNonce(string account)
    {
        ArgumentNullException.ThrowIfNull(account);
        var colon = account.IndexOf(':', StringComparison.Ordinal);
        var identifier = Convert.FromHexString(account.AsSpan(colon + 1));
        return (ulong)AccountNonces.Last(PreparedStatements.Of(_mempoolReads.Connection), identifier, account[..colon]) + 1;
    }

    public Hash32 Execute(Block block)
    {
        ArgumentNullException.ThrowIfNull(block);
        _signers.Add(block.Height, block.Header);
        var input = new BlockInput(block.Height, block.Id.ToArray(), block.Header.Timestamp, block.Transactions,
            [.. block.TransactionHashes.Select(hash => hash.ToArray())], _signers.Live());
        var appHash = new Hash32(_executor.Execute(input, AppHash.ToArray()));
        ExecutedHeight = block.Height;
        AppHash = appHash;
        if (_governance.SetsScheduled != _setsScheduledSeen)
        {
            _setsScheduledSeen = _governance.SetsScheduled;
            _scheduled = ReadSchedule();
        }

        return appHash;
    }

    /// <summary>The sets the state scheduled after genesis: read at start, and again after a block that scheduled one.</summary>
    private List<ScheduledEpoch> ReadSchedule() => [.. _governance.Epochs(_state.Connection).Skip(1).Select(ToSchedule)];

    private static ScheduledEpoch ToSchedule(ValidatorEpoch epoch)
    {
        var keys = epoch.Members.Select(m => Ed25519PublicKey.TryCreate(Convert.FromHexString(m.Key))
            ?? throw new InvalidOperationException($"Epoch {epoch.Epoch} of the state names {m.Key}, which is not an ed25519 key.")).ToList();
        var contacts = new Dictionary<Ed25519PublicKey, ValidatorContact>();
        for (var i = 0; i < keys.Count; i++)
        {
            if (epoch.Members[i].Address.Length > 0)
            {
                contacts[keys[i]] = new ValidatorContact(epoch.Members[i].Pins, epoch.Members[i].Address);
            }
        }

        return new ScheduledEpoch(epoch.Epoch, epoch.DecidedHeight, epoch.StartHeight, new ValidatorSet(keys)) { Contacts = contacts };
    }

    public Hash32? AppHashAt(long height) =>
        height == ExecutedHeight ? AppHash : _executor.AppHashAt(height) is { } hash ? new Hash32(hash) : null;

    public void Dispose()
    {
        _mempoolReads.Dispose();
        _state.Dispose();
    }

    private static Hash32 HashAt(BlockExecutor executor, ChainParameters chain, long height) =>
        height == 0 ? chain.GenesisAppHash
        : executor.AppHashAt(height) is { } hash ? new Hash32(hash)
        : throw new InvalidOperationException($"The idOS state holds no app hash for height {height}.");

    /// <summary>Governance starts from the genesis keys; their TLS pins stay in the genesis file, where every node reads them.</summary>
    public static ValidatorGovernance Governance(ChainParameters chain) =>
        new([.. Enumerable.Range(0, (chain ?? throw new ArgumentNullException(nameof(chain))).Validators.Count)
            .Select(i => new ValidatorMember(chain.Validators[i].ToString(), [], ""))], new GovernanceRules(EpochDelay: ChainParameters.EpochDelay));

    private static HashSet<string> Owners(ChainParameters chain) =>
        chain.DatabaseOwner.Length > 0 ? new HashSet<string>(StringComparer.Ordinal) { chain.DatabaseOwner } : [];
}
