using System.Numerics;
using System.Text;

namespace IdOS.Akka.Engine.Storage.Auth;

/// <summary>Bitcoin's base58 alphabet, as NEAR writes public keys (`ed25519:&lt;base58&gt;`).</summary>
public static class Base58
{
    private const string Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        var zeros = 0;
        while (zeros < bytes.Length && bytes[zeros] == 0)
        {
            zeros++;
        }

        var value = new BigInteger(bytes, isUnsigned: true, isBigEndian: true);
        var text = new StringBuilder();
        while (value > 0)
        {
            value = BigInteger.DivRem(value, 58, out var digit);
            text.Insert(0, Alphabet[(int)digit]);
        }

        return new string('1', zeros) + text;
    }

    /// <summary>Null when the text holds a character outside the alphabet.</summary>
    public static byte[]? Decode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = BigInteger.Zero;
        foreach (var c in text)
        {
            var digit = Alphabet.IndexOf(c, StringComparison.Ordinal);
            if (digit < 0)
            {
                return null;
            }

            value = (value * 58) + digit;
        }

        var zeros = text.TakeWhile(c => c == '1').Count();
        var body = value.IsZero ? [] : value.ToByteArray(isUnsigned: true, isBigEndian: true);
        return [.. new byte[zeros], .. body];
    }
}
