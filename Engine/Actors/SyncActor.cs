using Akka.Actor;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Hosting;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Serves other validators' block requests from the committed chain, on a read connection of its own, so that a
/// validator catching up (up to 64 blocks of up to 4 MiB per request) does not hold up this one's voting. A request
/// for a block that is not committed here goes to the consensus actor, whose block tree may hold it. Fetching what
/// this validator itself lacks is the replica's (it knows which certificates name unknown blocks).
/// </summary>
public sealed class SyncActor : ReceiveActor
{
    public const string Name = "sync";

    private readonly SqliteBlockStore _committed;
    private readonly ConsensusLimits _limits;
    private readonly IActorRef _consensus;
    private readonly IActorRef _directory;

    public SyncActor(SqliteBlockStore committed, ConsensusLimits limits, IActorRef consensus, IActorRef directory)
    {
        _committed = committed;
        _limits = limits;
        _consensus = consensus;
        _directory = directory;
        Receive<ConsensusActor.Inbound>(inbound =>
        {
            if (inbound.Message is not BlockRequest request || _committed.GetById(request.BlockId) is null)
            {
                _consensus.Forward(inbound);
                return;
            }

            var response = BlockServing.Answer(request, _limits, _committed.GetById);
            _directory.Tell(new PeerDirectory.ToValidator(inbound.From.Value, response));
        });
    }

    public static Props Props(SqliteBlockStore committed, ConsensusLimits limits, IActorRef consensus, IActorRef directory) =>
        global::Akka.Actor.Props.Create(() => new SyncActor(committed, limits, consensus, directory));

    protected override void PostStop() => _committed.Dispose();
}
