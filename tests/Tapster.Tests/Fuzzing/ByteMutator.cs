namespace Tapster.Tests.Fuzzing;

/// <summary>
/// The byte-level mutations the fuzz tests share: one byte changed, a few inserted, a span removed or
/// repeated in place, the input cut short. Seeded by the caller, so every case can be made again.
/// </summary>
internal static class ByteMutator
{
    public const int Kinds = 5;

    /// <summary>Applies mutation <paramref name="kind"/> (0 to <see cref="Kinds"/> - 1), using <paramref name="interesting"/> for new bytes half of the time.</summary>
    public static byte[] Mutate(Random random, byte[] input, int kind, byte[] interesting)
    {
        if (input.Length == 0)
        {
            return [Pick(random, interesting)];
        }

        var at = random.Next(input.Length);
        var bytes = input.ToList();
        switch (kind)
        {
            case 0:
                bytes[at] = NewByte(random, interesting);
                break;
            case 1:
                bytes.InsertRange(at, Enumerable.Range(0, 1 + random.Next(8)).Select(_ => NewByte(random, interesting)));
                break;
            case 2:
                bytes.RemoveRange(at, Math.Min(1 + random.Next(16), bytes.Count - at));
                break;
            case 3:
                bytes.InsertRange(at, bytes.GetRange(at, Math.Min(1 + random.Next(64), bytes.Count - at)));
                break;
            default:
                bytes.RemoveRange(at, bytes.Count - at);
                break;
        }

        return [.. bytes];
    }

    private static byte NewByte(Random random, byte[] interesting) => random.Next(2) == 0 ? Pick(random, interesting) : (byte)random.Next(256);

    private static byte Pick(Random random, byte[] from) => from[random.Next(from.Length)];
}
