using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Crypto;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Storage.Actions;
using IdOS.Akka.Engine.Storage.Governance;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Storage.Snapshots;
using LinqToDB;

namespace IdOS.Akka.Engine.Storage.Execution;

/// <summary>
/// A committed block as the state machine needs it: height, id, the leader's timestamp, the transactions in order,
/// and the SHA-256 of each where the caller holds them already (a consensus block hashes its transactions once, for
/// its Merkle root); computed here when absent. LiveValidators holds the hex keys of the validators that signed a
/// certificate in the committed chain lately, which governance needs to refuse a change that would halt the
/// network; null counts every validator as live.
/// </summary>
public sealed record BlockInput(long Height, byte[] BlockId, long TimestampMs, IReadOnlyList<byte[]> Transactions,
    IReadOnlyList<byte[]>? TransactionHashes = null, IReadOnlySet<string>? LiveValidators = null);

/// <summary>
/// Executes committed blocks against the idOS state in one database transaction each: every transaction in order,
/// each recorded with its result, then the height, block id and app hash; a crash leaves the state before or after
/// the whole block. A transaction that fails still spends its nonce (as kwild does) and changes nothing else.
/// Time is the block's timestamp, never the local clock. At each height the snapshot schedule names, the app hash
/// recorded is the block's own folded with the root of a snapshot of the state there (<see cref="SnapshotOffer"/>).
/// </summary>
public sealed class BlockExecutor(StateDatabase state, string chainId, IReadOnlySet<string> owners, ISecp256k1Recovery recovery,
    VerifiedSignatures? verified = null, SnapshotSchedule? snapshots = null, ValidatorGovernance? governance = null)
{
    private static readonly byte[] Domain = "idos-akka/app-hash/v2"u8.ToArray();
    private static readonly byte[] NothingChanged = new byte[32];
    private const int MaxLogChars = 1024;
    private readonly ChangedRows _changedRows = new();

    public long ExecutedHeight => ExecutedBlocks.Height(state.Connection);

    /// <summary>The app hash after <paramref name="height"/>, or null if it has not been executed.</summary>
    public byte[]? AppHashAt(long height) =>
        ExecutedBlocks.AppHashAt(state.Connection, height);

    /// <summary>
    /// Executes the next height and returns the app hash. Asked again for a height it has executed (a restart where
    /// the state outran the block store by any number of blocks), it returns the stored hash without executing
    /// anything twice, provided it is the same block.
    /// </summary>
    public byte[] Execute(BlockInput block, byte[] previousAppHash)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(previousAppHash);
        var executed = ExecutedHeight;
        if (block.Height <= executed)
        {
            var height = block.Height;
            var done = state.Connection.GetTable<ExecutedBlockRow>().FirstOrDefault(b => b.Height == height)
                ?? throw new InvalidOperationException($"Height {height} is below the executed height {executed} and the state holds no record of it.");
            return done.BlockId.AsSpan().SequenceEqual(block.BlockId)
                ? done.AppHash
                : throw new InvalidOperationException(
                    $"The state executed another block at height {height} ({Convert.ToHexStringLower(done.BlockId)}) than the one committed ({Convert.ToHexStringLower(block.BlockId)}).");
        }

        if (block.TransactionHashes is { } hashes && hashes.Count != block.Transactions.Count)
        {
            throw new ArgumentException($"Block {block.Height} has {block.Transactions.Count} transactions and {hashes.Count} hashes.", nameof(block));
        }

        if (block.Height != executed + 1)
        {
            throw new InvalidOperationException($"Height {block.Height} cannot follow executed height {executed}.");
        }

        var db = state.Connection;
        using var transaction = db.BeginTransaction();
        var commands = new BlockCommands(db);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Domain);
        hash.AppendData(previousAppHash);
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(number, block.Height);
        hash.AppendData(number);
        hash.AppendData(block.BlockId);
        for (var position = 0; position < block.Transactions.Count; position++)
        {
            var bytes = block.Transactions[position];
            var txHash = block.TransactionHashes?[position] ?? SHA256.HashData(bytes);
            var (code, unsafeLog) = ExecuteOne(bytes, txHash, block, commands);
            var log = StorableLog(unsafeLog);
            var changed = _changedRows.DigestAndClear(db);
            commands.AddResult(block.Height, position, txHash, code, log);
            hash.AppendData(txHash);
            BinaryPrimitives.WriteInt64BigEndian(number, code);
            hash.AppendData(number);
            hash.AppendData(SHA256.HashData(Encoding.UTF8.GetBytes(log)));
            hash.AppendData(changed ?? NothingChanged);
        }

        commands.WriteResults();
        var appHash = hash.GetHashAndReset();
        if (snapshots is { } schedule && schedule.IsDue(block.Height))
        {
            // Before the block's transaction commits: a crash before then executes the block, and takes this snapshot, again.
            appHash = TakeSnapshot(db, block.Height, appHash, schedule).AppHash;
        }

        db.Insert(new ExecutedBlockRow { Height = block.Height, BlockId = block.BlockId, AppHash = appHash, TimestampMs = block.TimestampMs });
        transaction.Commit();
        return appHash;
    }

    /// <summary>The state at <paramref name="height"/> as a snapshot, whose root the app hash recorded there commits to.</summary>
    private static SnapshotOffer TakeSnapshot(LinqToDB.Data.DataConnection db, long height, byte[] blockAppHash, SnapshotSchedule schedule)
    {
        var writer = schedule.Directory?.Begin(height);
        var manifest = StateSnapshot.WriteInTransaction(db, height, (index, chunk) => writer?.Chunk(index, chunk.Span), schedule.ChunkBytes);
        var offer = new SnapshotOffer(manifest, blockAppHash);
        writer?.Complete(offer);
        return offer;
    }

    /// <summary>
    /// A log may quote what the transaction carried (a payload type, say); NUL is replaced and the length bounded so
    /// that every database stores, and every validator hashes, the same text.
    /// </summary>
    private static string StorableLog(string log)
    {
        var clean = log.Replace('\0', '\uFFFD');
        if (clean.Length <= MaxLogChars)
        {
            return clean;
        }

        var cut = char.IsHighSurrogate(clean[MaxLogChars - 1]) ? MaxLogChars - 1 : MaxLogChars;
        return clean[..cut];
    }

    private (int Code, string Log) ExecuteOne(byte[] bytes, byte[] txHash, BlockInput block, BlockCommands commands)
    {
        // The mempool's check kept what the bytes decoded to, and its verdict on the signature.
        var admission = verified is not null && verified.TryTakeDecoded(txHash, out var decoded)
            ? TransactionGate.Check(decoded, chainId, recovery, verified.Contains(txHash))
            : TransactionGate.Check(bytes, chainId, recovery, verified?.Contains(txHash) == true);
        if (!admission.IsAdmitted)
        {
            return (admission.Code, admission.Log);
        }

        var transaction = admission.Transaction!;
        var body = transaction.Body;
        var signatureType = transaction.Signature!.Type;
        var keyType = KwilAuthenticator.AccountKeyType(signatureType);
        var db = state.Connection;
        var identifier = admission.Signer!;
        if (!commands.TrySpendNonce(identifier, keyType, body.Nonce))
        {
            return (TxCode.InvalidNonce, $"nonce {body.Nonce}; the account's next nonce is {commands.Nonce(identifier, keyType) + 1}");
        }

        if (ValidatorPayload.IsGovernance(body.PayloadType) && governance is not null)
        {
            return Govern(body, signatureType, identifier, block, commands);
        }

        if (body.PayloadType != "execute")
        {
            return (TxCode.InvalidTransactionType, $"payload type '{body.PayloadType}' is not supported; idOS transactions are 'execute'");
        }

        var caller = KwilAuthenticator.Caller(signatureType, identifier);
        var context = new ActionContext(caller, identifier, signatureType, Convert.ToHexStringLower(txHash), block.Height,
            block.TimestampMs / 1000, owners.Contains(caller.ToLowerInvariant()));
        commands.Savepoint();
        try
        {
            var execution = ActionPayload.DecodeExecution(body.Payload ?? []);
            ActionDefinition? action = null;
            foreach (var call in execution.Calls)
            {
                // Resolved at the first call: a payload without calls has always executed as a no-op, whatever it names.
                action ??= IdosActions.Resolve(execution.Namespace, execution.Action, fromView: false);
                IdosActions.RunUndoneByCaller(db, context, action, call);
            }

            commands.Release();
            return (TxCode.Ok, "");
        }
        catch (Exception e) when (e is ActionFailedException or KwilFormatException)
        {
            commands.RollBack();
            return e is ActionFailedException failed ? (TxCode.ForAction(failed.Error), failed.Message) : (TxCode.Encoding, e.Message);
        }
        catch (System.Data.Common.DbException)
        {
            // A constraint an action failed to check first is a bug; one transaction fails instead of every validator
            // halting on the same block. The log leaves out the database's own wording, which differs between
            // SQLite and PostgreSQL and would split their app hashes.
            commands.RollBack();
            return (TxCode.ForAction(ActionError.Internal), "internal error: the database refused the change");
        }
    }

    private (int Code, string Log) Govern(KwilTransactionBody body, string signatureType, byte[] signer, BlockInput block, BlockCommands commands)
    {
        ValidatorPayload payload;
        try
        {
            payload = ValidatorPayload.Decode(body.PayloadType, body.Payload ?? []);
        }
        catch (KwilFormatException e)
        {
            return (TxCode.Encoding, e.Message);
        }

        commands.Savepoint();
        var (code, log) = governance!.Execute(state.Connection, payload, signatureType, signer, block.Height, block.LiveValidators);
        if (code == TxCode.Ok)
        {
            commands.Release();
        }
        else
        {
            commands.RollBack();
        }

        return (code, log);
    }
}
