package services

import (
	"errors"

	"golang.org/x/sys/unix"
)

// The trust store is watched with inotify: the directory for key files added, removed, renamed or
// replaced, and each key file's own inode for writes and changes of its attributes. A watch on the
// inode sees the file changed through any name: a key file that is a symbolic link (watched at its
// target) or a hard link written through another directory. The kernel queues an event before the
// call that changed the file returns, so a check asked after an edit always finds it queued: a look
// reads the queue without waiting, and anything there (or a look that fails) drops every watch and
// watches the store anew, which lists any file added.
const (
	trustDirEvents = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE |
		unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF |
		// The directory itself, not one a symbolic link points to: pointing the link elsewhere
		// would change the store with no event here, so a linked store is not watched (nor kept).
		unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW
	trustFileEvents = unix.IN_MODIFY | unix.IN_ATTRIB | unix.IN_CLOSE_WRITE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF
)

// look reports whether the store is watched, after counting a change if the kernel reported one
// since the last look (or if the watches had to be made anew). Called under w.mu.
func (w *trustWatch) look() bool {
	if w.watching.fd >= 0 {
		_, err := unix.Read(w.watching.fd, w.buf[:])
		if errors.Is(err, unix.EAGAIN) {
			return true // nothing queued: nothing changed
		}
		// Events (or a failed read): whatever they say, the watches start over. Closing drops what
		// is still queued, which the files' state read after the new watches already shows.
		w.watching.close()
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return false
	}
	if !watchTrustFiles(fd, w.dir) {
		_ = unix.Close(fd)
		return false
	}
	w.watching.fd = fd
	w.changes++ // anything may have changed while the store was not watched
	return true
}

// watchTrustFiles adds the store's watches to the inotify instance fd: the directory, and every
// file trustStore.keys reads.
func watchTrustFiles(fd int, dir string) bool {
	if _, err := unix.InotifyAddWatch(fd, dir, trustDirEvents); err != nil {
		return false // no store yet, or one that cannot be watched: not kept
	}
	files, err := trustStore{dir: dir}.files()
	if err != nil {
		return false
	}
	for _, file := range files {
		if _, err := unix.InotifyAddWatch(fd, file, trustFileEvents); err != nil {
			return false // a dangling link, say: tried again at the next look
		}
	}
	return true
}

func (h *watchHandle) close() {
	if h.fd >= 0 {
		_ = unix.Close(h.fd)
		h.fd = -1
	}
}
