;; WebAssembly SIMD kernels, compiled to src/storage/kernelsWasm.ts by `npm run build:kernels`.
;; group2/ungroup2/group4/ungroup4: the byte-plane transforms of the word kernels of bytegroup.ts, 16
;; elements per step (i8x16.shuffle moves the bytes), then a byte loop for the last n % 16 elements. `rot`
;; rotates each element by one bit as the float kinds do (left when grouping, right when ungrouping).
;; Layout: n elements of width w at `s` <-> w planes of n bytes at `d` (plane k at d + k * n). Source and
;; destination must not overlap. stats_bf16 is the bf16 difference-statistics loop of core/tensorStats.ts
;; (storage/statsKernel.ts calls it); diff2/diff4/apply2/apply4 are the fine-tune deltas of storage/delta.ts.
(module
  (memory (export "memory") 1)

  ;; n 16-bit elements at s -> planes at d, d + n
  (func (export "group2") (param $s i32) (param $d i32) (param $n i32) (param $rot i32)
    (local $i i32) (local $n16 i32) (local $p1 i32) (local $x i32) (local $x0 v128) (local $x1 v128)
    (local.set $p1 (i32.add (local.get $d) (local.get $n)))
    (local.set $n16 (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $n16)))
        (local.set $x0 (v128.load (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 1)))))
        (local.set $x1 (v128.load offset=16 (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 1)))))
        (if (local.get $rot) (then
          (local.set $x0
            (v128.or (i16x8.shl (local.get $x0) (i32.const 1)) (i16x8.shr_u (local.get $x0) (i32.const 15))))
          (local.set $x1
            (v128.or (i16x8.shl (local.get $x1) (i32.const 1)) (i16x8.shr_u (local.get $x1) (i32.const 15))))))
        (v128.store (i32.add (local.get $d) (local.get $i))
          (i8x16.shuffle 0 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30 (local.get $x0) (local.get $x1)))
        (v128.store (i32.add (local.get $p1) (local.get $i))
          (i8x16.shuffle 1 3 5 7 9 11 13 15 17 19 21 23 25 27 29 31 (local.get $x0) (local.get $x1)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (i32.load16_u (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 1)))))
        (if (local.get $rot) (then
          (local.set $x (i32.or (i32.shl (local.get $x) (i32.const 1)) (i32.shr_u (local.get $x) (i32.const 15))))))
        (i32.store8 (i32.add (local.get $d) (local.get $i)) (local.get $x))
        (i32.store8 (i32.add (local.get $p1) (local.get $i)) (i32.shr_u (local.get $x) (i32.const 8)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; planes at s, s + n -> n 16-bit elements at d
  (func (export "ungroup2") (param $s i32) (param $d i32) (param $n i32) (param $rot i32)
    (local $i i32) (local $n16 i32) (local $p1 i32) (local $x i32) (local $a v128) (local $b v128) (local $lo v128)
    (local $hi v128)
    (local.set $p1 (i32.add (local.get $s) (local.get $n)))
    (local.set $n16 (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $n16)))
        (local.set $a (v128.load (i32.add (local.get $s) (local.get $i))))
        (local.set $b (v128.load (i32.add (local.get $p1) (local.get $i))))
        (local.set $lo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23 (local.get $a) (local.get $b)))
        (local.set $hi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31 (local.get $a) (local.get $b)))
        (if (local.get $rot) (then
          (local.set $lo
            (v128.or (i16x8.shr_u (local.get $lo) (i32.const 1)) (i16x8.shl (local.get $lo) (i32.const 15))))
          (local.set $hi
            (v128.or (i16x8.shr_u (local.get $hi) (i32.const 1)) (i16x8.shl (local.get $hi) (i32.const 15))))))
        (v128.store (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 1))) (local.get $lo))
        (v128.store offset=16 (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 1))) (local.get $hi))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x
          (i32.or
            (i32.load8_u (i32.add (local.get $s) (local.get $i)))
            (i32.shl (i32.load8_u (i32.add (local.get $p1) (local.get $i))) (i32.const 8))))
        (if (local.get $rot) (then
          (local.set $x (i32.or (i32.shr_u (local.get $x) (i32.const 1)) (i32.shl (local.get $x) (i32.const 15))))))
        (i32.store16 (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 1))) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; n 32-bit elements at s -> planes at d, d + n, d + 2n, d + 3n
  (func (export "group4") (param $s i32) (param $d i32) (param $n i32) (param $rot i32)
    (local $i i32) (local $n16 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $at i32) (local $x i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $t0 v128) (local $t1 v128)
    (local $t2 v128) (local $t3 v128)
    (local.set $p1 (i32.add (local.get $d) (local.get $n)))
    (local.set $p2 (i32.add (local.get $p1) (local.get $n)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $n)))
    (local.set $n16 (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $n16)))
        (local.set $at (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $x0 (v128.load (local.get $at)))
        (local.set $x1 (v128.load offset=16 (local.get $at)))
        (local.set $x2 (v128.load offset=32 (local.get $at)))
        (local.set $x3 (v128.load offset=48 (local.get $at)))
        (if (local.get $rot) (then
          (local.set $x0
            (v128.or (i32x4.shl (local.get $x0) (i32.const 1)) (i32x4.shr_u (local.get $x0) (i32.const 31))))
          (local.set $x1
            (v128.or (i32x4.shl (local.get $x1) (i32.const 1)) (i32x4.shr_u (local.get $x1) (i32.const 31))))
          (local.set $x2
            (v128.or (i32x4.shl (local.get $x2) (i32.const 1)) (i32x4.shr_u (local.get $x2) (i32.const 31))))
          (local.set $x3
            (v128.or (i32x4.shl (local.get $x3) (i32.const 1)) (i32x4.shr_u (local.get $x3) (i32.const 31))))))
        ;; t0: byte 0 then byte 1 of elements 0-7; t1: bytes 2 and 3; t2, t3: the same for elements 8-15
        (local.set $t0 (i8x16.shuffle 0 4 8 12 16 20 24 28 1 5 9 13 17 21 25 29 (local.get $x0) (local.get $x1)))
        (local.set $t1 (i8x16.shuffle 2 6 10 14 18 22 26 30 3 7 11 15 19 23 27 31 (local.get $x0) (local.get $x1)))
        (local.set $t2 (i8x16.shuffle 0 4 8 12 16 20 24 28 1 5 9 13 17 21 25 29 (local.get $x2) (local.get $x3)))
        (local.set $t3 (i8x16.shuffle 2 6 10 14 18 22 26 30 3 7 11 15 19 23 27 31 (local.get $x2) (local.get $x3)))
        (v128.store (i32.add (local.get $d) (local.get $i))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (v128.store (i32.add (local.get $p1) (local.get $i))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (v128.store (i32.add (local.get $p2) (local.get $i))
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (v128.store (i32.add (local.get $p3) (local.get $i))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x (i32.load (i32.add (local.get $s) (i32.shl (local.get $i) (i32.const 2)))))
        (if (local.get $rot) (then (local.set $x (i32.rotl (local.get $x) (i32.const 1)))))
        (i32.store8 (i32.add (local.get $d) (local.get $i)) (local.get $x))
        (i32.store8 (i32.add (local.get $p1) (local.get $i)) (i32.shr_u (local.get $x) (i32.const 8)))
        (i32.store8 (i32.add (local.get $p2) (local.get $i)) (i32.shr_u (local.get $x) (i32.const 16)))
        (i32.store8 (i32.add (local.get $p3) (local.get $i)) (i32.shr_u (local.get $x) (i32.const 24)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; planes at s, s + n, s + 2n, s + 3n -> n 32-bit elements at d
  (func (export "ungroup4") (param $s i32) (param $d i32) (param $n i32) (param $rot i32)
    (local $i i32) (local $n16 i32) (local $p1 i32) (local $p2 i32) (local $p3 i32) (local $at i32) (local $x i32)
    (local $ab_lo v128) (local $ab_hi v128) (local $ce_lo v128) (local $ce_hi v128) (local $o0 v128) (local $o1 v128)
    (local $o2 v128) (local $o3 v128)
    (local.set $p1 (i32.add (local.get $s) (local.get $n)))
    (local.set $p2 (i32.add (local.get $p1) (local.get $n)))
    (local.set $p3 (i32.add (local.get $p2) (local.get $n)))
    (local.set $n16 (i32.and (local.get $n) (i32.const -16)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $n16)))
        ;; bytes 0,1 and bytes 2,3 of elements 0-7 (lo) and 8-15 (hi), as 16-bit pairs
        (local.set $ab_lo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
          (v128.load (i32.add (local.get $s) (local.get $i))) (v128.load (i32.add (local.get $p1) (local.get $i)))))
        (local.set $ab_hi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31
          (v128.load (i32.add (local.get $s) (local.get $i))) (v128.load (i32.add (local.get $p1) (local.get $i)))))
        (local.set $ce_lo (i8x16.shuffle 0 16 1 17 2 18 3 19 4 20 5 21 6 22 7 23
          (v128.load (i32.add (local.get $p2) (local.get $i))) (v128.load (i32.add (local.get $p3) (local.get $i)))))
        (local.set $ce_hi (i8x16.shuffle 8 24 9 25 10 26 11 27 12 28 13 29 14 30 15 31
          (v128.load (i32.add (local.get $p2) (local.get $i))) (v128.load (i32.add (local.get $p3) (local.get $i)))))
        (local.set $o0 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $ab_lo) (local.get $ce_lo)))
        (local.set $o1
          (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $ab_lo) (local.get $ce_lo)))
        (local.set $o2 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $ab_hi) (local.get $ce_hi)))
        (local.set $o3
          (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $ab_hi) (local.get $ce_hi)))
        (if (local.get $rot) (then
          (local.set $o0
            (v128.or (i32x4.shr_u (local.get $o0) (i32.const 1)) (i32x4.shl (local.get $o0) (i32.const 31))))
          (local.set $o1
            (v128.or (i32x4.shr_u (local.get $o1) (i32.const 1)) (i32x4.shl (local.get $o1) (i32.const 31))))
          (local.set $o2
            (v128.or (i32x4.shr_u (local.get $o2) (i32.const 1)) (i32x4.shl (local.get $o2) (i32.const 31))))
          (local.set $o3
            (v128.or (i32x4.shr_u (local.get $o3) (i32.const 1)) (i32x4.shl (local.get $o3) (i32.const 31))))))
        (local.set $at (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 2))))
        (v128.store (local.get $at) (local.get $o0))
        (v128.store offset=16 (local.get $at) (local.get $o1))
        (v128.store offset=32 (local.get $at) (local.get $o2))
        (v128.store offset=48 (local.get $at) (local.get $o3))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $x
          (i32.or
            (i32.or
              (i32.load8_u (i32.add (local.get $s) (local.get $i)))
              (i32.shl (i32.load8_u (i32.add (local.get $p1) (local.get $i))) (i32.const 8)))
            (i32.or
              (i32.shl (i32.load8_u (i32.add (local.get $p2) (local.get $i))) (i32.const 16))
              (i32.shl (i32.load8_u (i32.add (local.get $p3) (local.get $i))) (i32.const 24)))))
        (if (local.get $rot) (then (local.set $x (i32.rotr (local.get $x) (i32.const 1)))))
        (i32.store (i32.add (local.get $d) (i32.shl (local.get $i) (i32.const 2))) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail))))

  ;; Difference sums of n bf16 pairs, p at x and q at y (n a multiple of 8),
  ;; the loop of accumulateLut in core/tensorStats.ts, 8 pairs per step in
  ;; float64 lanes (two sets of sums, so fewer additions wait on each other).
  ;; Written as float64 at out: aa, bb, ab, dd (sums of p*p, q*q, p*q, d*d
  ;; with d = q - p), the largest |d| (starting from the value at out + 32),
  ;; the count of d != 0, and at out + 48 1 when some d is NaN: the caller
  ;; then redoes the block with the JS loop, which treats NaN exactly.
  (func (export "stats_bf16") (param $x i32) (param $y i32) (param $n i32) (param $out i32)
    (local $i i32) (local $end i32)
    (local $aa0 v128) (local $bb0 v128) (local $ab0 v128) (local $dd0 v128)
    (local $aa1 v128) (local $bb1 v128) (local $ab1 v128) (local $dd1 v128)
    (local $mx v128) (local $cnt v128) (local $nan v128) (local $zero v128)
    (local $a v128) (local $b v128) (local $pf v128) (local $qf v128) (local $p v128) (local $q v128) (local $d v128)
    (local.set $mx (f64x2.splat (f64.load offset=32 (local.get $out))))
    (local.set $end (i32.shl (local.get $n) (i32.const 1)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $a (v128.load (i32.add (local.get $x) (local.get $i))))
        (local.set $b (v128.load (i32.add (local.get $y) (local.get $i))))
        ;; elements 0-3: bf16 bits are the top half of a float32
        (local.set $pf (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $a)) (i32.const 16)))
        (local.set $qf (i32x4.shl (i32x4.extend_low_i16x8_u (local.get $b)) (i32.const 16)))
        (local.set $p (f64x2.promote_low_f32x4 (local.get $pf)))
        (local.set $q (f64x2.promote_low_f32x4 (local.get $qf)))
        (local.set $aa0 (f64x2.add (local.get $aa0) (f64x2.mul (local.get $p) (local.get $p))))
        (local.set $bb0 (f64x2.add (local.get $bb0) (f64x2.mul (local.get $q) (local.get $q))))
        (local.set $ab0 (f64x2.add (local.get $ab0) (f64x2.mul (local.get $p) (local.get $q))))
        (local.set $d (f64x2.sub (local.get $q) (local.get $p)))
        (local.set $dd0 (f64x2.add (local.get $dd0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.abs (local.get $d))))
        (local.set $cnt (i64x2.sub (local.get $cnt) (f64x2.ne (local.get $d) (local.get $zero))))
        (local.set $nan (v128.or (local.get $nan) (f64x2.ne (local.get $d) (local.get $d))))
        (local.set $p (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $pf) (local.get $pf))))
        (local.set $q (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $qf) (local.get $qf))))
        (local.set $aa1 (f64x2.add (local.get $aa1) (f64x2.mul (local.get $p) (local.get $p))))
        (local.set $bb1 (f64x2.add (local.get $bb1) (f64x2.mul (local.get $q) (local.get $q))))
        (local.set $ab1 (f64x2.add (local.get $ab1) (f64x2.mul (local.get $p) (local.get $q))))
        (local.set $d (f64x2.sub (local.get $q) (local.get $p)))
        (local.set $dd1 (f64x2.add (local.get $dd1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.abs (local.get $d))))
        (local.set $cnt (i64x2.sub (local.get $cnt) (f64x2.ne (local.get $d) (local.get $zero))))
        (local.set $nan (v128.or (local.get $nan) (f64x2.ne (local.get $d) (local.get $d))))
        ;; elements 4-7
        (local.set $pf (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $a)) (i32.const 16)))
        (local.set $qf (i32x4.shl (i32x4.extend_high_i16x8_u (local.get $b)) (i32.const 16)))
        (local.set $p (f64x2.promote_low_f32x4 (local.get $pf)))
        (local.set $q (f64x2.promote_low_f32x4 (local.get $qf)))
        (local.set $aa0 (f64x2.add (local.get $aa0) (f64x2.mul (local.get $p) (local.get $p))))
        (local.set $bb0 (f64x2.add (local.get $bb0) (f64x2.mul (local.get $q) (local.get $q))))
        (local.set $ab0 (f64x2.add (local.get $ab0) (f64x2.mul (local.get $p) (local.get $q))))
        (local.set $d (f64x2.sub (local.get $q) (local.get $p)))
        (local.set $dd0 (f64x2.add (local.get $dd0) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.abs (local.get $d))))
        (local.set $cnt (i64x2.sub (local.get $cnt) (f64x2.ne (local.get $d) (local.get $zero))))
        (local.set $nan (v128.or (local.get $nan) (f64x2.ne (local.get $d) (local.get $d))))
        (local.set $p (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $pf) (local.get $pf))))
        (local.set $q (f64x2.promote_low_f32x4
          (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $qf) (local.get $qf))))
        (local.set $aa1 (f64x2.add (local.get $aa1) (f64x2.mul (local.get $p) (local.get $p))))
        (local.set $bb1 (f64x2.add (local.get $bb1) (f64x2.mul (local.get $q) (local.get $q))))
        (local.set $ab1 (f64x2.add (local.get $ab1) (f64x2.mul (local.get $p) (local.get $q))))
        (local.set $d (f64x2.sub (local.get $q) (local.get $p)))
        (local.set $dd1 (f64x2.add (local.get $dd1) (f64x2.mul (local.get $d) (local.get $d))))
        (local.set $mx (f64x2.pmax (local.get $mx) (f64x2.abs (local.get $d))))
        (local.set $cnt (i64x2.sub (local.get $cnt) (f64x2.ne (local.get $d) (local.get $zero))))
        (local.set $nan (v128.or (local.get $nan) (f64x2.ne (local.get $d) (local.get $d))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (f64.store (local.get $out)
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $aa0)) (f64x2.extract_lane 1 (local.get $aa0)))
        (f64.add (f64x2.extract_lane 0 (local.get $aa1)) (f64x2.extract_lane 1 (local.get $aa1)))))
    (f64.store offset=8 (local.get $out)
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $bb0)) (f64x2.extract_lane 1 (local.get $bb0)))
        (f64.add (f64x2.extract_lane 0 (local.get $bb1)) (f64x2.extract_lane 1 (local.get $bb1)))))
    (f64.store offset=16 (local.get $out)
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $ab0)) (f64x2.extract_lane 1 (local.get $ab0)))
        (f64.add (f64x2.extract_lane 0 (local.get $ab1)) (f64x2.extract_lane 1 (local.get $ab1)))))
    (f64.store offset=24 (local.get $out)
      (f64.add
        (f64.add (f64x2.extract_lane 0 (local.get $dd0)) (f64x2.extract_lane 1 (local.get $dd0)))
        (f64.add (f64x2.extract_lane 0 (local.get $dd1)) (f64x2.extract_lane 1 (local.get $dd1)))))
    (f64.store offset=32 (local.get $out)
      (f64.max (f64x2.extract_lane 0 (local.get $mx)) (f64x2.extract_lane 1 (local.get $mx))))
    (f64.store offset=40 (local.get $out)
      (f64.convert_i64_s (i64.add (i64x2.extract_lane 0 (local.get $cnt)) (i64x2.extract_lane 1 (local.get $cnt)))))
    (f64.store offset=48 (local.get $out) (f64.convert_i32_u (v128.any_true (local.get $nan)))))

  ;; Fine-tune deltas (storage/delta.ts), n 16-bit elements: o = zigzag(b - a).
  (func (export "diff2") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $i i32) (local $end i32) (local $x v128) (local $y v128) (local $d v128) (local $s i32) (local $t i32)
    (local $e i32)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 1)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $a) (local.get $i))))
        (local.set $y (v128.load (i32.add (local.get $b) (local.get $i))))
        (local.set $d (i16x8.sub (local.get $y) (local.get $x)))
        (local.set $d (v128.xor (i16x8.shl (local.get $d) (i32.const 1)) (i16x8.shr_s (local.get $d) (i32.const 15))))
        (v128.store (i32.add (local.get $o) (local.get $i)) (local.get $d))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (local.set $end (i32.shl (local.get $n) (i32.const 1)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s (i32.load16_u (i32.add (local.get $a) (local.get $i))))
        (local.set $t (i32.load16_u (i32.add (local.get $b) (local.get $i))))
        ;; the 16-bit difference, sign-extended, zigzagged
        (local.set $e (i32.shr_s (i32.shl (i32.sub (local.get $t) (local.get $s)) (i32.const 16)) (i32.const 16)))
        (local.set $e (i32.xor (i32.shl (local.get $e) (i32.const 1)) (i32.shr_s (local.get $e) (i32.const 15))))
        (i32.store16 (i32.add (local.get $o) (local.get $i)) (local.get $e))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $tail))))

  ;; n 32-bit elements: o = zigzag(b - a).
  (func (export "diff4") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $i i32) (local $end i32) (local $x v128) (local $y v128) (local $d v128) (local $s i32) (local $t i32)
    (local $e i32)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $a) (local.get $i))))
        (local.set $y (v128.load (i32.add (local.get $b) (local.get $i))))
        (local.set $d (i32x4.sub (local.get $y) (local.get $x)))
        (local.set $d (v128.xor (i32x4.shl (local.get $d) (i32.const 1)) (i32x4.shr_s (local.get $d) (i32.const 31))))
        (v128.store (i32.add (local.get $o) (local.get $i)) (local.get $d))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s (i32.load (i32.add (local.get $a) (local.get $i))))
        (local.set $t (i32.load (i32.add (local.get $b) (local.get $i))))
        (local.set $e (i32.sub (local.get $t) (local.get $s)))
        (local.set $e (i32.xor (i32.shl (local.get $e) (i32.const 1)) (i32.shr_s (local.get $e) (i32.const 31))))
        (i32.store (i32.add (local.get $o) (local.get $i)) (local.get $e))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

  ;; n 16-bit elements: o = a + unzigzag(b), the inverse of diff2.
  (func (export "apply2") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $i i32) (local $end i32) (local $x v128) (local $y v128) (local $d v128) (local $s i32) (local $t i32)
    (local $e i32)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 1)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $a) (local.get $i))))
        (local.set $y (v128.load (i32.add (local.get $b) (local.get $i))))
        (local.set $d (i16x8.add (local.get $x)
          (v128.xor
            (i16x8.shr_u (local.get $y) (i32.const 1))
            (i16x8.neg (v128.and (local.get $y) (i16x8.splat (i32.const 1)))))))
        (v128.store (i32.add (local.get $o) (local.get $i)) (local.get $d))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (local.set $end (i32.shl (local.get $n) (i32.const 1)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s (i32.load16_u (i32.add (local.get $a) (local.get $i))))
        (local.set $t (i32.load16_u (i32.add (local.get $b) (local.get $i))))
        (local.set $e (i32.add (local.get $s)
          (i32.xor
            (i32.shr_u (local.get $t) (i32.const 1))
            (i32.sub (i32.const 0) (i32.and (local.get $t) (i32.const 1))))))
        (i32.store16 (i32.add (local.get $o) (local.get $i)) (local.get $e))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $tail))))

  ;; n 32-bit elements: o = a + unzigzag(b), the inverse of diff4.
  (func (export "apply4") (param $a i32) (param $b i32) (param $o i32) (param $n i32)
    (local $i i32) (local $end i32) (local $x v128) (local $y v128) (local $d v128) (local $s i32) (local $t i32)
    (local $e i32)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $step
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $a) (local.get $i))))
        (local.set $y (v128.load (i32.add (local.get $b) (local.get $i))))
        (local.set $d (i32x4.add (local.get $x)
          (v128.xor
            (i32x4.shr_u (local.get $y) (i32.const 1))
            (i32x4.neg (v128.and (local.get $y) (i32x4.splat (i32.const 1)))))))
        (v128.store (i32.add (local.get $o) (local.get $i)) (local.get $d))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $step)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s (i32.load (i32.add (local.get $a) (local.get $i))))
        (local.set $t (i32.load (i32.add (local.get $b) (local.get $i))))
        (local.set $e (i32.add (local.get $s)
          (i32.xor
            (i32.shr_u (local.get $t) (i32.const 1))
            (i32.sub (i32.const 0) (i32.and (local.get $t) (i32.const 1))))))
        (i32.store (i32.add (local.get $o) (local.get $i)) (local.get $e))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))
)
