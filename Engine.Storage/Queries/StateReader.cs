using System.Data;
using IdOS.Akka.Engine.Kwil.Reads;
using IdOS.Akka.Engine.Kwil.Results;
using IdOS.Akka.Engine.Storage.Actions;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Schema;
using LinqToDB;
using LinqToDB.Data;

namespace IdOS.Akka.Engine.Storage.Queries;

/// <summary>
/// Reads committed state on a connection of its own, so reads never wait for a block to execute. A batch runs in one
/// read transaction (a WAL snapshot on SQLite, REPEATABLE READ on PostgreSQL): every answer in it sees the same
/// height. Views see the last executed block's height and timestamp, as a transaction in the next block would.
/// </summary>
public sealed class StateReader(StateDatabase state, string databaseOwner)
{
    /// <param name="requests">The views to run, answered in order.</param>
    /// <param name="accounts">Accounts whose next nonce to read in the same state version, answered in order.</param>
    /// <param name="atLeastHeight">
    /// The height the answers must include (a client reading its own write asks for the height its transaction was
    /// executed at); a state still below it answers nothing and says so, and the caller asks again.
    /// </param>
    public ReadBatchResult Read(IReadOnlyList<ViewRequest> requests, IReadOnlyList<AccountKey> accounts, long atLeastHeight = 0)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(accounts);
        var db = state.Connection;
        using var transaction = db.BeginTransaction(IsolationLevel.RepeatableRead);
        var last = db.GetTable<ExecutedBlockRow>().OrderByDescending(b => b.Height).FirstOrDefault();
        var height = last?.Height ?? 0;
        if (height < atLeastHeight)
        {
            transaction.Rollback();
            return new ReadBatchResult(height, [], [], Behind: true);
        }

        var timestamp = (last?.TimestampMs ?? 0) / 1000;
        var results = new List<ViewResult>(requests.Count);
        foreach (var request in requests)
        {
            results.Add(Run(db, request, height, timestamp));
        }

        var nonces = accounts.Select(account => NonceOf(db, account.Identifier, account.KeyType) + 1).ToList();
        transaction.Rollback();
        return new ReadBatchResult(height, results, nonces);
    }

    /// <summary>
    /// SQL of our own for the lookup sync broadcasts repeat for every waiting transaction: linq2db's per-call query
    /// building had cost more than SQLite's index search.
    /// </summary>
    private const string ResultByHashSql = "SELECT height, position, tx_hash, code, log FROM transaction_results WHERE tx_hash = @hash";

    /// <summary>The results of committed transactions by hash (`user.tx_query`), with the height they are known up to.</summary>
    public (long Height, IReadOnlyList<TransactionResultRow?> Results) TransactionResults(IReadOnlyList<byte[]> hashes)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        var db = state.Connection;
        using var transaction = db.BeginTransaction(IsolationLevel.RepeatableRead);
        var height = ExecutedBlocks.Height(db);
        var results = hashes.Select(hash => db.Query<TransactionResultRow>(ResultByHashSql, new DataParameter("hash", hash, DataType.VarBinary)).FirstOrDefault()).ToList();
        transaction.Rollback();
        return (height, results);
    }

    /// <summary>The app hash after <paramref name="height"/>, or null when it is not executed yet.</summary>
    public byte[]? AppHashAt(long height) =>
        ExecutedBlocks.AppHashAt(state.Connection, height);

    /// <summary>A signer's next nonce (`user.account`): its last used one + 1, with the height it is read at.</summary>
    public (long NextNonce, long Height) NextNonce(byte[] identifier, string keyType)
    {
        var db = state.Connection;
        using var transaction = db.BeginTransaction(IsolationLevel.RepeatableRead);
        var height = ExecutedBlocks.Height(db);
        var nonce = NonceOf(db, identifier, keyType);
        transaction.Rollback();
        return (nonce + 1, height);
    }

    /// <summary>Every broadcast reads its sender's nonce: the same prepared statement as execution's.</summary>
    private static long NonceOf(DataConnection db, byte[] identifier, string keyType) =>
        AccountNonces.Last(PreparedStatements.Of(db), identifier, keyType);

    private ViewResult Run(DataConnection db, ViewRequest request, long height, long timestamp)
    {
        var caller = request.Caller;
        var context = new ActionContext(caller?.Caller ?? "", caller?.Signer ?? [], caller?.Authenticator ?? "", "", height, timestamp,
            caller is not null && databaseOwner.Length > 0 && string.Equals(caller.Caller.ToLowerInvariant(), databaseOwner, StringComparison.Ordinal));
        try
        {
            return new ViewResult(IdosActions.Execute(db, context, request.Namespace, request.Action, request.Arguments, fromView: true), 0, "");
        }
        catch (ActionFailedException e)
        {
            return new ViewResult(null, TxCode.ForAction(e.Error), e.Message);
        }
    }
}
