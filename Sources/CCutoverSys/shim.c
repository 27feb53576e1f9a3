// Empty: the target's only content is the inline function in include/cutover_sys.h.
