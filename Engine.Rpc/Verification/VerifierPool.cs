using Akka.Actor;
using Akka.Configuration;
using Akka.Routing;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Kwil.Transactions;

namespace IdOS.Akka.Engine.Rpc.Verification;

/// <summary>Check a decoded transaction as a mempool would (chain, signature); answered with an <see cref="Admission"/>.</summary>
public sealed record VerifyTransaction(KwilTransaction Transaction, string ChainId);

/// <summary>Check that <paramref name="Sender"/> signed <paramref name="Message"/> (a KGW login); answered with a <see cref="SignerCheck"/>.</summary>
public sealed record VerifySignedMessage(string SignatureType, byte[] Sender, byte[] Message, byte[] Signature);

/// <summary>One worker of the pool: pure CPU, no state, so any worker may take any request.</summary>
internal sealed class SignatureVerifierActor : ReceiveActor
{
    public SignatureVerifierActor(ISecp256k1Recovery recovery)
    {
        Receive<VerifyTransaction>(request => Answer(() => TransactionGate.Check(request.Transaction, request.ChainId, recovery)));
        Receive<VerifySignedMessage>(request =>
            Answer(() => KwilAuthenticator.VerifyMessage(request.SignatureType, request.Sender, request.Message, request.Signature, recovery)));
    }

    /// <summary>An unexpected failure goes back to the asker rather than leaving it waiting for a restarted worker.</summary>
    private void Answer(Func<object> verify)
    {
        try
        {
            Sender.Tell(verify());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Sender.Tell(new Status.Failure(e));
        }
    }
}

/// <summary>
/// The RPC system's signature checks: a round-robin pool of verifier actors on a dispatcher with threads of its own,
/// sized to the cores, so that recovering secp256k1 keys neither occupies Kestrel's request threads nor queues
/// behind anything else. Every transaction is checked here before any mempool sees it.
/// </summary>
public sealed class VerifierPool
{
    public const string DispatcherId = "idos-rpc-verifier-dispatcher";
    public const string Name = "verifiers";

    private readonly IActorRef _router;
    private long _outstanding;

    private VerifierPool(IActorRef router, int size)
    {
        _router = router;
        Size = size;
    }

    public int Size { get; }

    /// <summary>Checks asked for and not answered yet: queued behind the workers or running on them.</summary>
    public long Outstanding => Interlocked.Read(ref _outstanding);

    /// <summary>The dispatcher the workers run on; the RPC system's configuration must include it.</summary>
    public static Config DispatcherConfig(int threads) => ConfigurationFactory.ParseString($$"""
        {{DispatcherId}} {
          type = ForkJoinDispatcher
          throughput = 16
          dedicated-thread-pool {
            thread-count = {{threads}}
            threadtype = background
          }
        }
        """);

    public static VerifierPool Start(ActorSystem system, int size, ISecp256k1Recovery recovery)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (!system.Dispatchers.HasDispatcher(DispatcherId))
        {
            throw new ConfigurationException($"The actor system has no {DispatcherId}; include VerifierPool.DispatcherConfig in its configuration.");
        }

        var props = Props.Create(() => new SignatureVerifierActor(recovery)).WithDispatcher(DispatcherId).WithRouter(new RoundRobinPool(size));
        return new VerifierPool(system.ActorOf(props, Name), size);
    }

    public Task<Admission> Transaction(KwilTransaction transaction, string chainId, CancellationToken cancel) =>
        Counted<Admission>(new VerifyTransaction(transaction, chainId), cancel);

    public Task<SignerCheck> Message(string signatureType, byte[] sender, byte[] message, byte[] signature, CancellationToken cancel) =>
        Counted<SignerCheck>(new VerifySignedMessage(signatureType, sender, message, signature), cancel);

    private async Task<T> Counted<T>(object check, CancellationToken cancel)
    {
        Interlocked.Increment(ref _outstanding);
        try
        {
            return await _router.Ask<T>(check, cancel);
        }
        finally
        {
            Interlocked.Decrement(ref _outstanding);
        }
    }
}
