using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>What the adversary strategies may use of the world: its instances, network, generator and clock.</summary>
internal interface IAdversaryWorld
{
    ChainParameters Chain { get; }

    VerifiedSignatureCache Verifier { get; }

    SimRandom Random { get; }

    WorldConfig Config { get; }

    IReadOnlyList<SimInstance> Instances { get; }

    SimNetwork Network { get; }

    long Now { get; }

    long LocalTime(SimInstance instance);

    /// <summary>Carries out an effect as a correct instance would.</summary>
    void ExecuteHonestly(SimInstance instance, ReplicaEffect effect);

    void Trace(string line);
}
