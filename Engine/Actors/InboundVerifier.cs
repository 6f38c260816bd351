using Akka.Actor;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Actors;

/// <summary>
/// Checks the signatures in one peer's consensus messages before the consensus actor sees them: on the thread pool,
/// in parallel with the other peers' verifiers, handing each message on in the order it came. The verdicts only fill
/// the node's shared <see cref="VerifiedSignatureCache"/>; the replica checks every message again and stays the one
/// judge, so a forged message still reaches it to be rejected and counted, and a verifier that restarts or falls
/// behind costs time, never safety.
/// </summary>
public sealed class InboundVerifier : ReceiveActor
{
    public InboundVerifier(ChainParameters chain, Ed25519PublicKey ownKey, VerifiedSignatureCache cache, IActorRef consensus)
    {
        var checks = new SignatureChecks(chain, new OwnSignaturesLeftToReplica(cache, ownKey));
        Receive<ConsensusActor.Inbound>(inbound =>
        {
            checks.CheckSignatures(inbound.Message);
            consensus.Forward(inbound);
        });
    }

    public static Props Props(ChainParameters chain, Ed25519PublicKey ownKey, VerifiedSignatureCache cache, IActorRef consensus) =>
        global::Akka.Actor.Props.Create(() => new InboundVerifier(chain, ownKey, cache, consensus));

    /// <summary>
    /// This validator's own share of a QC or TC is recognised by the replica, which remembers its recent votes and
    /// timeouts, with a byte comparison; checking it here would be a verification the replica never asks for. It passes
    /// without a check and without entering the cache, and only this verifier's throw-away verdict ever sees that pass.
    /// </summary>
    private sealed class OwnSignaturesLeftToReplica(VerifiedSignatureCache cache, Ed25519PublicKey own) : ISignatureVerifier
    {
        public bool Verify(Ed25519PublicKey key, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
            own.Equals(key) || cache.Verify(key, message, signature);
    }
}
