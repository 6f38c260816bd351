namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// q distinct validators' timeouts for one round. Each signer's highest-QC round is kept (in signer order) because
/// each signature covers it, and because the proposal that follows may only extend a QC at least as high as the
/// highest of them.
/// </summary>
public sealed record TimeoutCertificate(long Round, byte[] Signers, IReadOnlyList<long> HighQcRounds, IReadOnlyList<byte[]> Signatures)
{
    public long MaxHighQcRound => HighQcRounds.Count == 0 ? 0 : HighQcRounds.Max();
}
