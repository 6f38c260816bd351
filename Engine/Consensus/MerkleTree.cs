using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// RFC 6962 Merkle tree hash over transaction hashes. Leaves and inner nodes are hashed with different prefixes so
/// that no inner node can pose as a leaf; the split point is the largest power of two below the count, so the shape
/// (and the root) depends on nothing but the ordered hashes.
/// </summary>
public static class MerkleTree
{
    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    public static Hash32 Root(IReadOnlyList<Hash32> leaves)
    {
        ArgumentNullException.ThrowIfNull(leaves);
        return leaves.Count == 0 ? Hash32.Compute([]) : Subtree(leaves, 0, leaves.Count);
    }

    private static Hash32 Subtree(IReadOnlyList<Hash32> leaves, int start, int count)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * Hash32.Size)];
        if (count == 1)
        {
            buffer[0] = LeafPrefix;
            leaves[start].WriteTo(buffer[1..]);
            return Hash32.Compute(buffer[..(1 + Hash32.Size)]);
        }

        var split = 1;
        while (split * 2 < count)
        {
            split *= 2;
        }

        buffer[0] = NodePrefix;
        Subtree(leaves, start, split).WriteTo(buffer[1..]);
        Subtree(leaves, start + split, count - split).WriteTo(buffer[(1 + Hash32.Size)..]);
        return Hash32.Compute(buffer);
    }
}
