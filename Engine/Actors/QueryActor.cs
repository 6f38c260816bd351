using Akka.Actor;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Queries;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Answers reads of committed idOS state on a database connection of its own and a thread of its own, so that
/// clients asking for results never hold up block execution, and execution never holds up their answers.
/// </summary>
public sealed class QueryActor : ReceiveActor
{
    public const string Name = "query";

    private readonly StateDatabase _database;
    private readonly SqliteBlockStore _blocks;

    public QueryActor(StateStoreOptions options, string databaseOwner, SqliteBlockStore blocks)
    {
        _database = StateDatabase.Open(options);
        _blocks = blocks;
        var reader = new StateReader(_database, databaseOwner);
        Receive<TransactionResultsQuery>(query =>
        {
            var (height, rows) = reader.TransactionResults([.. query.Hashes.Select(h => h.ToArray())]);
            Sender.Tell(new TransactionResults(height, [.. rows.Select(r => r is null ? null
                : new TransactionOutcome(r.Height, r.Position, r.Code, r.Log, query.IncludeTransactions ? TransactionAt(r.Height, r.Position) : null))]));
        });
        Receive<AccountQuery>(query =>
        {
            var (nonce, height) = reader.NextNonce(query.Identifier, query.KeyType);
            Sender.Tell(new AccountAnswer(nonce, height));
        });
        Receive<AppHashQuery>(query =>
            Sender.Tell(new AppHashAnswer(query.Height, reader.AppHashAt(query.Height) is { } hash ? new Hash32(hash) : null)));
    }

    public static Props Props(StateStoreOptions options, string databaseOwner, SqliteBlockStore blocks) =>
        global::Akka.Actor.Props.Create(() => new QueryActor(options, databaseOwner, blocks)).WithDispatcher("idos.blocking-io-dispatcher");

    protected override void PostStop()
    {
        _database.Dispose();
        _blocks.Dispose();
    }

    /// <summary>Null once the block's body is pruned past the retention window.</summary>
    private byte[]? TransactionAt(long height, int position) =>
        _blocks.GetByHeight(height) is { } block && position < block.Transactions.Count ? block.Transactions[position] : null;
}
