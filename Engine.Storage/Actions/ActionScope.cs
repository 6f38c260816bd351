using IdOS.Akka.Engine.Kwil.Results;
using LinqToDB.Data;

namespace IdOS.Akka.Engine.Storage.Actions;

/// <summary>The database and context one action runs with, and the lookups the schema's actions share.</summary>
public sealed class ActionScope(DataConnection db, ActionContext context)
{
    public DataConnection Db { get; } = db;

    public ActionContext Context { get; } = context;

    /// <summary>The hot statements of the actions, prepared once on this connection.</summary>
    public PreparedStatements Statements { get; } = PreparedStatements.Of(db);

    /// <summary>
    /// U(caller): the user owning a wallet the caller signs with. EVM addresses compare
    /// case-insensitively (the caller is EIP-55 mixed case, wallets are stored as registered).
    /// </summary>
    public Guid? CallerUserId()
    {
        using var users = Statements.Read(UsersOfCallerSql, Context.Caller.ToLowerInvariant(), Context.Caller);
        if (!users.Read())
        {
            return null;
        }

        var userId = users.GetGuid(0);
        return users.Read()
            ? throw new ActionFailedException(ActionError.Conflict, "the caller's wallet belongs to more than one user")
            : userId;
    }

    /// <summary>
    /// One lookup per wallet kind, each on its own index (as one OR they were answered by scanning every wallet), and
    /// in SQL of our own, prepared once: every user-signed action runs it, and linq2db rebuilt this query's SQL on
    /// every execution (two thirds of a user's 1 KiB attribute write). The same text runs on SQLite and PostgreSQL.
    /// </summary>
    internal const string UsersOfCallerSql = """
        SELECT user_id FROM wallets WHERE wallet_type = 'EVM' AND lower(address) = @p0
        UNION SELECT user_id FROM wallets WHERE wallet_type IN ('XRPL', 'Stellar') AND address = @p1
        UNION SELECT user_id FROM wallets WHERE wallet_type IN ('NEAR', 'FaceSign') AND public_key = @p1
        """;

    public Guid RequireCallerUserId() =>
        CallerUserId() ?? throw new ActionFailedException(ActionError.NotFound, "the caller has no idOS profile (no wallet of theirs is registered)");

    /// <summary>
    /// get_inserter(): the name of the inserter whose delegate is the caller. Delegates are stored lowercase
    /// (add_delegate_as_owner), so the caller is lowered too: an EVM delegate's checksummed caller then matches,
    /// where schema.sql's case-sensitive comparison would never match.
    /// </summary>
    public string RequireDelegateInserter()
    {
        var name = (string?)Statements.Scalar("SELECT i.name FROM delegates d JOIN inserters i ON i.id = d.inserter_id WHERE d.address = @p0",
            Context.Caller.ToLowerInvariant());
        return name ?? throw new ActionFailedException(ActionError.Unauthorized, "Unauthorized inserter");
    }

    public void RequireOwner(string action)
    {
        if (!Context.IsOwner)
        {
            throw new ActionFailedException(ActionError.Unauthorized, $"{action} may only be called by the network owner");
        }
    }

    /// <summary>Inserts a row whose primary key must be new; a duplicate is a failed transaction, not an exception from the driver.</summary>
    public void InsertNew<T>(T row, string what)
        where T : class
    {
        if (!Statements.TryInsertNew(row))
        {
            throw new ActionFailedException(ActionError.Conflict, $"{what} already exists");
        }
    }
}