# A terminal's pseudo-terminal, inside the lab host, behind the plain pipes of a non-TTY exec (pty.ts).
# Run as `perl -e <this file> COLS ROWS COMMAND...`: perl-base is in every Debian image, so the lab image
# needs nothing new and the helper always matches the backend that speaks to it (docs/decisions.md).
#   standard input: frames [type u8][length u32 BE][payload]; type 0: keys for the terminal, type 1: its size
#                   (cols u16 BE, rows u16 BE); end of input: the terminal is hung up, like a closed window
#   standard output: the terminal's bytes, as many as are ready in one write (the engine relays fewer, larger
#                    chunks than through its own TTY, which hands over at most 4 KiB at a time)
#   exit status: the command's, 128+N when a signal N ended it
# No module is loaded (POSIX alone costs 10 ms of CPU per shell); the ioctl and fcntl numbers are Linux's
# generic ones (x86-64, arm64).
$0 = 'atelier-pty';
my ($cols, $rows, @command) = @ARGV;
my ($TIOCSWINSZ, $TIOCSPTLCK, $TIOCGPTN) = (0x5414, 0x40045431, 0x80045430);
my ($F_SETFL, $O_RDWR, $O_NOCTTY, $O_NONBLOCK, $EIO) = (4, 2, 0400, 04000, 5);
my $CHUNK = 65536;

sysopen(my $master, '/dev/ptmx', $O_RDWR | $O_NOCTTY) or die "atelier-pty: /dev/ptmx: $!\n";
my ($unlock, $ptn) = (pack('i', 0), pack('i', 0));
ioctl($master, $TIOCSPTLCK, $unlock) or die "atelier-pty: unlockpt: $!\n";
ioctl($master, $TIOCGPTN, $ptn) or die "atelier-pty: ptsname: $!\n";
my $size = sub { my $winsize = pack('S4', $_[1], $_[0], 0, 0); ioctl($master, $TIOCSWINSZ, $winsize) };
$size->($cols, $rows);

my $exited = 0;
$SIG{CHLD} = sub { $exited = 1 };
defined(my $pid = fork) or die "atelier-pty: fork: $!\n";
if ($pid == 0) {
  $SIG{CHLD} = 'DEFAULT';
  sysopen(my $slave, '/dev/pts/' . unpack('i', $ptn), $O_RDWR) or die "atelier-pty: slave: $!\n";
  open(STDIN, '<&', $slave) and open(STDOUT, '>&', $slave) and open(STDERR, '>&', $slave) or die "atelier-pty: dup: $!\n";
  close $slave;
  # util-linux's setsid: a session of its own with this terminal as its controlling one (job control, ^C).
  exec('setsid', '--ctty', @command) or die "atelier-pty: setsid: $!\n";
}

fcntl($master, $F_SETFL, $O_RDWR | $O_NONBLOCK);
fcntl(STDOUT, $F_SETFL, 1 | $O_NONBLOCK);
my ($in, $keys, $out, $ended) = ('', '', '', 0);

sub status { $? & 127 ? 128 + ($? & 127) : $? >> 8 }

# Frames from the backend: keys are queued for the terminal; a size waits for the keys before it.
sub frames {
  while (length($in) >= 5) {
    my ($type, $length) = unpack('CN', $in);
    last if length($in) < 5 + $length || ($type == 1 && length $keys);
    my $payload = substr($in, 5, $length);
    substr($in, 0, 5 + $length, '');
    if ($type == 0) { $keys .= $payload }
    elsif ($type == 1 && $length == 4) { $size->(unpack('nn', $payload)) }
  }
}

# What the terminal has ready, without waiting: a few reads of up to 4 KiB each. EIO: no process has the
# terminal open any more (the shell has ended).
sub drain_terminal {
  while (length($out) < $CHUNK) {
    my $n = sysread($master, $out, $CHUNK - length $out, length $out);
    next if $n;
    $ended = 1 if !defined $n && $! + 0 == $EIO;
    return;
  }
}

sub write_out {
  my $n = syswrite(STDOUT, $out);
  substr($out, 0, $n, '') if $n;
}

# The shell has ended: what it wrote last goes out, then the helper ends with its status.
sub finish {
  waitpid($pid, 0);
  my $status = status();
  drain_terminal();
  fcntl(STDOUT, $F_SETFL, 1);
  syswrite(STDOUT, $out) if length $out;
  exit $status;
}

# The backend went away: hang the terminal up (SIGHUP to the shell and its jobs), SIGKILL a second later.
sub hang_up {
  close $master;
  for (1 .. 20) {
    exit status() if waitpid($pid, 1) == $pid;
    select(undef, undef, undef, 0.05);
  }
  kill 'KILL', $pid;
  waitpid($pid, 0);
  exit status();
}

# In a flood, the PTY is left alone for a moment (2 ms, twice at most) so that its output is read 4 KiB at a
# time and leaves in large writes: the engine then relays a few large chunks instead of many small ones,
# and the helper wakes up less. A flood: 8 KiB read with no pause of 50 ms; a keystroke's echo or a prompt
# never waits.
my ($streak, $holds, $holding) = (0, 0, 0);
while (1) {
  finish() if $ended || ($exited && waitpid($pid, 1) == $pid);
  $exited = 0;
  my ($r, $w) = ('', '');
  vec($r, 0, 1) = 1 if length($keys) < $CHUNK;
  vec($r, fileno($master), 1) = 1 if length($out) < $CHUNK && !$holding;
  vec($w, 1, 1) = 1 if length($out) && !$holding;
  vec($w, fileno($master), 1) = 1 if length $keys;
  # Past a pause, the timeout only covers a SIGCHLD landing just before select (the end is seen 5 s late).
  my $n = select($r, $w, undef, $holding ? 0.0005 : $streak ? 0.05 : 5);
  $streak = 0 if $n == 0 && !$holding;
  next if $n < 0;
  if ($n > 0 && vec($r, 0, 1)) {
    my $n = sysread(STDIN, $in, $CHUNK, length $in);
    hang_up() if defined $n && $n == 0;
    frames();
  }
  if ($n > 0 && length $keys && vec($w, fileno($master), 1)) {
    my $n = syswrite($master, $keys);
    substr($keys, 0, $n, '') if $n;
    frames();
  }
  if ($holding || ($n > 0 && vec($r, fileno($master), 1))) {
    my $before = length $out;
    drain_terminal();
    $streak += length($out) - $before;
  }
  $holding = length($out) && length($out) < 16384 && $streak >= 8192 && $holds < 4;
  $holds = $holding ? $holds + 1 : 0;
  write_out() if length($out) && !$holding;
}
