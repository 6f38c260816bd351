using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// q distinct validators' votes for one block in one round. Signatures are listed in ascending signer order, one per
/// bit set in <see cref="Signers"/>. The genesis QC is the only one without signatures.
/// </summary>
public sealed record QuorumCertificate(Hash32 BlockId, long Round, byte[] Signers, IReadOnlyList<byte[]> Signatures)
{
    public bool IsGenesis => Round == 0;

    public static QuorumCertificate ForGenesis(Hash32 genesisId, int validatorCount) =>
        new(genesisId, 0, new byte[(validatorCount + 7) / 8], []);
}
