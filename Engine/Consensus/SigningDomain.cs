using IdOS.Akka.Engine.Consensus.Encoding;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The exact bytes each kind of signature covers. Every message starts with its kind and the chain id, and after
/// genesis's epoch the epoch, so a signature can never be replayed as another kind of message, on another chain, or
/// in another epoch (where a timeout, which names no block, would otherwise count again).
/// </summary>
public sealed class SigningDomain(string chainId, long epoch = 0)
{
    // Kind, chain id and epoch, encoded once: every signature checked or made starts with one of these.
    private readonly byte[] _proposal = Prefix("proposal", chainId, epoch);
    private readonly byte[] _vote = Prefix("vote", chainId, epoch);
    private readonly byte[] _timeout = Prefix("timeout", chainId, epoch);

    public byte[] Proposal(Hash32 blockId)
    {
        var writer = Start(_proposal, Hash32.Size);
        writer.WriteHash(blockId);
        return writer.ToArray();
    }

    public byte[] Vote(Hash32 blockId, long round)
    {
        var writer = Start(_vote, Hash32.Size + sizeof(long));
        writer.WriteHash(blockId);
        writer.WriteU63(round);
        return writer.ToArray();
    }

    public byte[] Timeout(long round, long highQcRound)
    {
        var writer = Start(_timeout, 2 * sizeof(long));
        writer.WriteU63(round);
        writer.WriteU63(highQcRound);
        return writer.ToArray();
    }

    private static CanonicalWriter Start(byte[] prefix, int fields)
    {
        var writer = new CanonicalWriter(prefix.Length + fields);
        writer.WriteFixed(prefix);
        return writer;
    }

    private static byte[] Prefix(string kind, string chainId, long epoch)
    {
        var writer = new CanonicalWriter();
        // Genesis's epoch keeps the prefix signatures had before there were epochs.
        writer.WriteString(epoch == 0 ? "idos-akka/" + kind + "/v1" : "idos-akka/" + kind + "/v2");
        writer.WriteString(chainId);
        if (epoch != 0)
        {
            writer.WriteU63(epoch);
        }

        return writer.ToArray();
    }
}
