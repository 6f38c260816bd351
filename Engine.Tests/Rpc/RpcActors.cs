using Akka.Actor;
using IdOS.Akka.Engine.Kwil.Auth;
using IdOS.Akka.Engine.Rpc.Reads;
using IdOS.Akka.Engine.Rpc.Services;
using IdOS.Akka.Engine.Rpc.Verification;

namespace IdOS.Akka.Engine.Tests.Rpc;

/// <summary>The RPC system's actors for a test: the verifier pool on its dispatcher, and read batchers over a given gateway.</summary>
internal sealed class RpcActors : IDisposable
{
    private int _batchers;

    public RpcActors(int verifiers = 2)
    {
        System = ActorSystem.Create("rpc-test", global::Akka.Configuration.ConfigurationFactory.ParseString("akka.loglevel = WARNING").WithFallback(VerifierPool.DispatcherConfig(verifiers)));
        Verifiers = VerifierPool.Start(System, verifiers, Secp256k1.Recovery);
    }

    public ActorSystem System { get; }

    public VerifierPool Verifiers { get; }

    public ReadBatcher Reads(INodeGateway gateway, ReadBatchSettings? settings = null) =>
        ReadBatcher.Start(System, gateway, settings ?? ReadBatchSettings.Default, $"reads-{++_batchers}");

    public void Dispose() => System.Terminate().Wait(TimeSpan.FromSeconds(10));
}
