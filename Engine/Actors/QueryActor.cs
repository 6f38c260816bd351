using Akka.Actor;
using Akka.Event;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Kwil.Reads;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Queries;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Answers reads of committed idOS state on a database connection of its own and a thread of its own, so that
/// clients asking for results never hold up block execution, and execution never holds up their answers. Remote
/// senders are answered only once they proved to be a listed RPC member (<see cref="QueryAccess"/>); others get a
/// refusal (<see cref="QueryAccessAnswer"/>). It also answers the explorer's reads of the chain (<see cref="ExplorerQueries"/>).
/// </summary>
public sealed class QueryActor : ReceiveActor
{
    public const string Name = "query";

    private readonly StateDatabase _database;
    private readonly SqliteBlockStore _blocks;

    public QueryActor(StateStoreOptions options, string databaseOwner, SqliteBlockStore blocks, QueryAccess access, ValidatorSet genesisSet)
    {
        ArgumentNullException.ThrowIfNull(access);
        _database = StateDatabase.Open(options);
        _blocks = blocks;
        var reader = new StateReader(_database, databaseOwner);
        var explorer = new ExplorerQueries(blocks, reader, genesisSet);
        var log = Context.GetLogger();
        Receive<MemberHello>(hello =>
        {
            var verdict = access.Prove(hello, Sender, ((ExtendedActorSystem)Context.System).Provider.DefaultAddress);
            if (!verdict.IsAccepted)
            {
                log.Warning("Refused a member hello from {0}: {1}", Sender.Path.Address, verdict.Reason);
            }

            Sender.Tell(new QueryAccessAnswer(verdict.IsAccepted, verdict.Reason ?? ""));
        });
        Receive<NodeMessage>(message => !access.Allows(Sender), _ =>
        {
            if (access.Refused <= 10 || access.Refused % 1_000 == 0)
            {
                log.Warning("Refused a query from {0}, which has not proven it is a listed RPC member ({1} refused so far).", Sender.Path.Address, access.Refused);
            }

            Sender.Tell(new QueryAccessAnswer(false, "this node answers queries only from the RPC members its operator lists, after their signed hello"));
        });
        Receive<TransactionResultsQuery>(query =>
        {
            var (height, rows) = reader.TransactionResults([.. query.Hashes.Select(h => h.ToArray())]);
            Sender.Tell(new TransactionResults(height, [.. rows.Select(r => r is null ? null
                : new TransactionOutcome(r.Height, r.Position, r.Code, r.Log, query.IncludeTransactions ? TransactionAt(r.Height, r.Position) : null))]));
        });
        Receive<ReadBatchQuery>(query => Sender.Tell(Read(reader, query)));
        Receive<AccountQuery>(query =>
        {
            var (nonce, height) = reader.NextNonce(query.Identifier, query.KeyType);
            Sender.Tell(new AccountAnswer(nonce, height));
        });
        Receive<RecentBlocksQuery>(query => Sender.Tell(explorer.Recent(query)));
        Receive<BlockQuery>(query => Sender.Tell(explorer.Block(query)));
        Receive<ValidatorsQuery>(_ => Sender.Tell(explorer.Validators()));
        Receive<AppHashQuery>(query =>
            Sender.Tell(new AppHashAnswer(query.Height, reader.AppHashAt(query.Height) is { } hash ? new Hash32(hash) : null)));
    }

    public static Props Props(StateStoreOptions options, string databaseOwner, SqliteBlockStore blocks, QueryAccess access, ValidatorSet genesisSet) =>
        global::Akka.Actor.Props.Create(() => new QueryActor(options, databaseOwner, blocks, access, genesisSet)).WithDispatcher("idos.blocking-io-dispatcher")
            .WithMailbox(PeerDirectory.PeerMailbox);

    protected override void PostStop()
    {
        _database.Dispose();
        _blocks.Dispose();
    }

    /// <summary>
    /// Runs the batch's views and nonce lookups in one read transaction; a payload that does not decode is answered
    /// on its own with code 1, and the others still run.
    /// </summary>
    private static ReadBatchAnswer Read(StateReader reader, ReadBatchQuery query)
    {
        var decoded = query.Calls.Select(call =>
        {
            try
            {
                var action = ActionPayload.DecodeCall(call.Payload);
                var caller = call.Caller.Length == 0 ? ReadCaller.Anonymous : new ReadCaller(call.Caller, call.Signer, call.Authenticator);
                return (Request: new ViewRequest(caller, action.Action, action.Arguments, action.Namespace), Error: (string?)null);
            }
            catch (KwilFormatException e)
            {
                return (Request: (ViewRequest?)null, Error: e.Message);
            }
        }).ToList();
        var batch = reader.Read([.. decoded.Where(d => d.Request is not null).Select(d => d.Request!)],
            [.. query.Accounts.Select(a => new AccountKey(a.Identifier, a.KeyType))], query.AtLeastHeight);
        if (batch.Behind)
        {
            return new ReadBatchAnswer(batch.Height, true, [], []);
        }

        var results = batch.Results.GetEnumerator();
        var answers = new List<ViewAnswer>(decoded.Count);
        foreach (var (request, error) in decoded)
        {
            if (request is null)
            {
                answers.Add(new ViewAnswer(1, error!, [], []));
                continue;
            }

            results.MoveNext();
            var result = results.Current;
            answers.Add(result.Outcome is { } outcome
                ? new ViewAnswer(0, "", outcome.Columns, outcome.Rows)
                : new ViewAnswer(result.Code, result.Error, [], []));
        }

        return new ReadBatchAnswer(batch.Height, false, answers, batch.NextNonces);
    }

    /// <summary>Null once the block's body is pruned past the retention window.</summary>
    private byte[]? TransactionAt(long height, int position) =>
        _blocks.GetByHeight(height) is { } block && position < block.Transactions.Count ? block.Transactions[position] : null;
}
