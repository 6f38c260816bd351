using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The exact bytes each kind of signature covers. Every message starts with its kind and the chain id, so a
/// signature can never be replayed as another kind of message or on another chain.
/// </summary>
public sealed class SigningDomain(string chainId)
{
    public byte[] Proposal(Hash32 blockId)
    {
        var writer = Start("proposal");
        writer.WriteHash(blockId);
        return writer.ToArray();
    }

    public byte[] Vote(Hash32 blockId, long round)
    {
        var writer = Start("vote");
        writer.WriteHash(blockId);
        writer.WriteU63(round);
        return writer.ToArray();
    }

    public byte[] Timeout(long round, long highQcRound)
    {
        var writer = Start("timeout");
        writer.WriteU63(round);
        writer.WriteU63(highQcRound);
        return writer.ToArray();
    }

    private CanonicalWriter Start(string kind)
    {
        var writer = new CanonicalWriter(128);
        writer.WriteString("idos-akka/" + kind + "/v1");
        writer.WriteString(chainId);
        return writer;
    }
}
