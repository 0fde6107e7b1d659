namespace Tapster.Workers;

/// <summary>
/// Age-based cleaners of temporary directories (systemd-tmpfiles ages /tmp out after 10 days; tmpreaper,
/// tmpwatch) remove entries none of whose times have moved for that long. The worker socket of an idle
/// server is such an entry, and without it no new worker can connect, so the supervisor touches the
/// runtime directory and the socket every <see cref="Period"/>.
/// </summary>
internal static class TempAging
{
    public static readonly TimeSpan Period = TimeSpan.FromHours(1);

    /// <summary>Sets the access and write times of each path to <paramref name="now"/>; false when one is gone or cannot be touched.</summary>
    public static bool Refresh(IEnumerable<string> paths, DateTime now)
    {
        var touched = true;
        foreach (var path in paths)
        {
            try
            {
                // utimensat underneath: directories and sockets alike.
                File.SetLastAccessTimeUtc(path, now);
                File.SetLastWriteTimeUtc(path, now);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                touched = false;
            }
        }

        return touched;
    }
}
