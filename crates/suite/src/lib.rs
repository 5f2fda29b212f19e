//! placeholder: the suite runner lands here.
