namespace IdOS.Akka.Engine.Consensus;

/// <summary>Which validators signed a certificate: bit i of byte i / 8 (least significant first) is validator i.</summary>
public static class SignerBitmap
{
    public static byte[] Create(int validatorCount, IEnumerable<int> signers)
    {
        var bitmap = new byte[(validatorCount + 7) / 8];
        foreach (var signer in signers)
        {
            bitmap[signer >> 3] |= (byte)(1 << (signer & 7));
        }

        return bitmap;
    }

    public static bool IsSet(ReadOnlySpan<byte> bitmap, int index) =>
        (index >> 3) < bitmap.Length && (bitmap[index >> 3] & (1 << (index & 7))) != 0;

    /// <summary>Signer indices in ascending order: the order in which a certificate lists their signatures.</summary>
    public static List<int> Signers(ReadOnlySpan<byte> bitmap)
    {
        var signers = new List<int>();
        for (var i = 0; i < bitmap.Length * 8; i++)
        {
            if (IsSet(bitmap, i))
            {
                signers.Add(i);
            }
        }

        return signers;
    }

    /// <summary>Null when the bitmap fits the set exactly: right length and no bit beyond the last validator.</summary>
    public static string? Check(ReadOnlySpan<byte> bitmap, int validatorCount)
    {
        var expected = (validatorCount + 7) / 8;
        if (bitmap.Length != expected)
        {
            return $"signer bitmap is {bitmap.Length} bytes, expected {expected} for {validatorCount} validators";
        }

        for (var i = validatorCount; i < bitmap.Length * 8; i++)
        {
            if (IsSet(bitmap, i))
            {
                return $"signer bitmap names validator {i}, but the set has {validatorCount}";
            }
        }

        return null;
    }
}
